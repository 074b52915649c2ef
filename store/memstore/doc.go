// Package memstore is the in-memory bot.Store used by `optinbot simulate`,
// benchmarks and the engine's unit tests. Its convention: nothing the caller
// hands in or gets back is shared with the store — every value is copied
// under one mutex — and it behaves exactly as the SQL store does (it passes
// the same storetest contract), including times kept in UTC to the
// microsecond and effects kept as their JSON encoding. It forgets everything
// when the process ends.
package memstore
