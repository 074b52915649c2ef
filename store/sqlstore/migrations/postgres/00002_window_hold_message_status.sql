-- +goose Up
-- When the provider reported the customer service window closed, and since
-- when it has reported the customer unreachable. NULL: zero time.
ALTER TABLE conversations
    ADD COLUMN window_closed_at timestamptz NULL,
    ADD COLUMN held_since       timestamptz NULL;

-- The latest committed status of each outbound message (bot.DeliveryRecord):
-- one row per message, replaced by a later Turn's record.
CREATE TABLE message_status (
    business   text        NOT NULL,
    message_id text        NOT NULL,
    status     text        NOT NULL,
    at         timestamptz NOT NULL,
    PRIMARY KEY (business, message_id)
);

-- +goose Down
DROP TABLE message_status;
ALTER TABLE conversations
    DROP COLUMN held_since,
    DROP COLUMN window_closed_at;
