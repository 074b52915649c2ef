-- +goose Up
-- Business API keys: the secret only as its SHA-256 (bot.APIKey).
CREATE TABLE api_keys (
    id          text        NOT NULL PRIMARY KEY,
    business    text        NOT NULL,
    secret_hash text        NOT NULL,
    label       text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz NULL
);
CREATE INDEX api_keys_business ON api_keys (business);

-- +goose Down
DROP TABLE api_keys;
