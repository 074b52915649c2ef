-- +goose Up
-- The conversation's pending flow timers (bot.Conversation.Timers) as a JSON
-- array; NULL: none.
ALTER TABLE conversations ADD COLUMN timers json NULL;
-- The conversation's variables (bot.Conversation.Vars) as a JSON object;
-- NULL: none. handoff is the human agent's queue while one has it; '': none.
ALTER TABLE conversations ADD COLUMN vars json NULL;
ALTER TABLE conversations ADD COLUMN handoff text NOT NULL DEFAULT '';

-- The same timers, one row each, for finding the due ones across all
-- conversations: rewritten for the customer by every Commit, in its
-- transaction, from the conversation's Timers.
CREATE TABLE timers (
    business   text        NOT NULL,
    customer   text        NOT NULL,
    id         text        NOT NULL,
    due_at     timestamptz NOT NULL,
    state      text        NOT NULL,
    transition integer     NOT NULL,
    PRIMARY KEY (business, customer, id)
);
-- Due order, with the tie-break of DueTimers, so it reads the index in order.
CREATE INDEX timers_due_at ON timers (due_at, business, customer, id);

-- +goose Down
DROP TABLE timers;
ALTER TABLE conversations DROP COLUMN handoff;
ALTER TABLE conversations DROP COLUMN vars;
ALTER TABLE conversations DROP COLUMN timers;
