// Package flowtests runs conversations against flows: the Simulator behind
// `optinbot simulate` (JSON lines in, one JSON line per effect out, a clock
// that starts at 2026-01-01T00:00:00Z and moves only when told), and the
// golden transcripts of the shipped flows under testdata/.
package flowtests
