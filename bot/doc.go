// Package bot is the conversation engine: per-customer conversations driven
// by a flow's state machine, the global keywords (STOP, START, HELP) that
// come before anything in a flow, and the policy guard every outbound
// message passes.
//
// The engine's step is pure: (flow, session, input, now) in, (turn, effects)
// out, no I/O. Service wraps it with what it declares here and others
// implement: a Store that commits a turn atomically, and the caller that
// publishes effects. This package imports no store, bus or HTTP code.
package bot
