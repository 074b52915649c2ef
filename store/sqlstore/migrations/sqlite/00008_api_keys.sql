-- +goose Up
-- Business API keys: the secret only as its SHA-256 (bot.APIKey).
CREATE TABLE api_keys (
    id          TEXT    NOT NULL PRIMARY KEY,
    business    TEXT    NOT NULL,
    secret_hash TEXT    NOT NULL,
    label       TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER NULL
);
CREATE INDEX api_keys_business ON api_keys (business);

-- +goose Down
DROP TABLE api_keys;
