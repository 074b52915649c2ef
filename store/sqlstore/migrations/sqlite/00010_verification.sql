-- +goose Up
-- Sign-up verifications (bot.Verification): the one-time code only as its
-- salted HMAC-SHA-256; the sign-up form's opt-in, if any, to record once
-- the number is confirmed.
CREATE TABLE verifications (
    id              TEXT        NOT NULL,
    business        TEXT        NOT NULL,
    customer        TEXT        NOT NULL,
    topic           TEXT        NOT NULL,
    code_hash       TEXT        NOT NULL,
    salt            TEXT        NOT NULL,
    created_at      INTEGER     NOT NULL,
    expires_at      INTEGER     NOT NULL,
    attempts        INTEGER     NOT NULL DEFAULT 0,
    max_attempts    INTEGER     NOT NULL,
    confirmed_at    INTEGER     NULL,
    opt_in_topic    TEXT        NULL,
    opt_in_wording  TEXT        NULL,
    opt_in_language TEXT        NULL,
    opt_in_where    TEXT        NULL,
    PRIMARY KEY (business, id)
);
CREATE INDEX verifications_customer ON verifications (business, customer, created_at);

-- +goose Down
DROP TABLE verifications;
