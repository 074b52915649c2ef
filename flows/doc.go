// Package flows loads the YAML flow language: a business's conversation as
// states, prompts, buttons, keywords and the consent each answer records.
// docs/flows.md describes the language, docs/flow.schema.json is its JSON
// Schema for editors.
//
// Loading parses, then validates everything, and reports every problem at
// once as "file:line:col: what is wrong". The YAML is the only source of
// truth: the engine compiles a loaded Flow to its state machine, and a flow's
// Version is a hash of its bytes, so a conversation can stay on the version it
// started with. This package is a leaf: it imports YAML and nothing of ours,
// and never logs.
package flows
