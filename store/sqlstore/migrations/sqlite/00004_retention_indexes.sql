-- +goose Up
-- For pruning past the retention: published outbox rows by when they were
-- published (pending rows, published_at NULL, are never pruned and stay out
-- of the index), and message statuses by the time of their record.
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;
CREATE INDEX message_status_at ON message_status (at);

-- +goose Down
DROP INDEX message_status_at;
DROP INDEX outbox_published_at;
