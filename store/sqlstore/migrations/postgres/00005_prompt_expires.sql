-- +goose Up
-- When an answer to the conversation's current prompt stops counting as
-- consent (bot.Conversation.PromptExpires). NULL: zero time, expired: the
-- conversations of before this column get their question asked again
-- before a YES counts.
ALTER TABLE conversations ADD COLUMN prompt_expires_at timestamptz NULL;

-- +goose Down
ALTER TABLE conversations DROP COLUMN prompt_expires_at;
