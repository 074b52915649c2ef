// Package lint checks loaded flows against WhatsApp's opt-in and opt-out
// rules and against mistakes that load fine but cannot work: an opt-in
// request that does not say who is asking, a flow keyword the engine's
// global keywords always take first, a template no customer can consent to,
// a state no conversation reaches.
//
// Each rule has a stable code (OB001…) explained in docs/lint.md under an
// anchor of that code. Lint returns the findings of one flow; Run is the
// `optinbot lint` command: it loads files, prints their findings as text or
// JSON lines and returns the exit status.
//
// The keyword semantics are the engine's own (bot.Normalize and
// bot.NewKeywords), so the linter and the engine never disagree on what a
// keyword is.
package lint
