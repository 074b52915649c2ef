-- +goose Up
-- Sign-up verifications (bot.Verification): the one-time code only as its
-- salted HMAC-SHA-256; the sign-up form's opt-in, if any, to record once
-- the number is confirmed.
CREATE TABLE verifications (
    id              text        NOT NULL,
    business        text        NOT NULL,
    customer        text        NOT NULL,
    topic           text        NOT NULL,
    code_hash       text        NOT NULL,
    salt            text        NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    max_attempts    integer     NOT NULL,
    confirmed_at    timestamptz NULL,
    opt_in_topic    text        NULL,
    opt_in_wording  text        NULL,
    opt_in_language text        NULL,
    opt_in_where    text        NULL,
    PRIMARY KEY (business, id)
);
CREATE INDEX verifications_customer ON verifications (business, customer, created_at);

-- +goose Down
DROP TABLE verifications;
