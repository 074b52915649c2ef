// Package flowtests runs conversations against flows.
//
// The Simulator is the engine behind `optinbot simulate`: JSON lines in, one
// JSON line per effect out, a clock that starts at 2026-01-01T00:00:00Z and
// moves only when told; testdata/ holds golden transcripts of the shipped
// flows.
//
// Flowtests are conversation tests written in YAML (*.flowtest.yaml, see
// docs/flowtests.md): Load parses one and loads its flow, reporting every
// problem at once as file:line:col; (*Suite).RunTest runs a test on a fresh
// Simulator; Run is `optinbot test PATH…`. The tests of the shipped flows
// are in examples/.
package flowtests
