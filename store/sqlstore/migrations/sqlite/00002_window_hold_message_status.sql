-- +goose Up
-- When the provider reported the customer service window closed, and since
-- when it has reported the customer unreachable: INTEGER microseconds since
-- the Unix epoch, UTC. NULL: zero time.
ALTER TABLE conversations ADD COLUMN window_closed_at INTEGER NULL;
ALTER TABLE conversations ADD COLUMN held_since INTEGER NULL;

-- The latest committed status of each outbound message (bot.DeliveryRecord):
-- one row per message, replaced by a later Turn's record.
CREATE TABLE message_status (
    business   TEXT    NOT NULL,
    message_id TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (business, message_id)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE message_status;
ALTER TABLE conversations DROP COLUMN held_since;
ALTER TABLE conversations DROP COLUMN window_closed_at;
