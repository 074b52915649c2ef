// Package report computes what the ledger and the engine's records say
// about the business's opt-in prompts: Experiments compares the variants
// of opt-in experiments (asked, opted in, stopped soon after) with 95%
// Wilson score intervals and two-proportion z-tests. It reads stores
// through the small interfaces it declares and changes nothing.
package report
