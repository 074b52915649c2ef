// Package examples holds the shipped example flows, embedded so the binary
// runs them from any directory.
package examples

import "embed"

// FS holds every shipped example flow (*.yaml).
//
//go:embed *.yaml
var FS embed.FS

// Retail is the file name of the demo flow in FS.
const Retail = "retail.yaml"
