// Package sqlstore is the durable bot.Store: one implementation, one set of
// queries, serving PostgreSQL (lib/pq) and SQLite (modernc.org/sqlite, no
// cgo). Its convention: each Commit is one transaction that begins by
// claiming the input's id in processed_inputs, so a redelivery finds the id
// taken, rolls back and stores nothing; everything else in the schema only
// ever grows by INSERT, except the conversation row (replaced each turn),
// the customer's timers rows (rewritten each turn from the conversation's
// Timers, which its timers column also holds), a message_status row
// (replaced by a later Turn's record for that message), outbox.published_at
// and the pruning of old processed ids. Times are stored in UTC to the
// microsecond (timestamptz in PostgreSQL, INTEGER Unix microseconds in
// SQLite). Errors wrap the cause with %w and name the
// business and (redacted) customer; the package never logs.
package sqlstore
