-- +goose Up
-- The conversation's pending flow timers (bot.Conversation.Timers) as a JSON
-- array; NULL: none.
ALTER TABLE conversations ADD COLUMN timers TEXT NULL;
-- The conversation's variables (bot.Conversation.Vars) as a JSON object;
-- NULL: none. handoff is the human agent's queue while one has it; '': none.
ALTER TABLE conversations ADD COLUMN vars TEXT NULL;
ALTER TABLE conversations ADD COLUMN handoff TEXT NOT NULL DEFAULT '';

-- The same timers, one row each, for finding the due ones across all
-- conversations: rewritten for the customer by every Commit, in its
-- transaction, from the conversation's Timers. due_at is INTEGER
-- microseconds since the Unix epoch, UTC.
CREATE TABLE timers (
    business   TEXT    NOT NULL,
    customer   TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    due_at     INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    transition INTEGER NOT NULL,
    PRIMARY KEY (business, customer, id)
) WITHOUT ROWID;
-- Due order, with the tie-break of DueTimers, so it reads the index in order.
CREATE INDEX timers_due_at ON timers (due_at, business, customer, id);

-- +goose Down
DROP TABLE timers;
ALTER TABLE conversations DROP COLUMN handoff;
ALTER TABLE conversations DROP COLUMN vars;
ALTER TABLE conversations DROP COLUMN timers;
