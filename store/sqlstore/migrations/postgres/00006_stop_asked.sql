-- +goose Up
-- The question whether the customer wants to stop (bot.StopQuestion), while
-- it waits for their answer. NULL: no question pending.
ALTER TABLE conversations ADD COLUMN stop_asked json NULL;

-- +goose Down
ALTER TABLE conversations DROP COLUMN stop_asked;
