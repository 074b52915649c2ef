// Package storetest is the one contract every bot.Store implementation
// passes: an implementation's own test calls Run with a function that opens a
// fresh, empty store, and the behaviour checked here is the behaviour
// optinbot relies on — nothing an implementation does beyond it is promised.
// Times come back in UTC truncated to the microsecond (Precision), the
// consent ledger is ordered by commit, and a rejected Commit leaves no trace.
// A store that erases customers (bot.CustomerEraser) also passes RunErase,
// which searches everything the store holds for what an erase must remove.
package storetest
