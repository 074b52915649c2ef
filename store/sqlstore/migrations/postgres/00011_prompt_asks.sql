-- +goose Up
-- The opt-in prompts of experiments shown to customers (bot.PromptAsk), with
-- the variant each showed: what `optinbot report experiments` counts as
-- asked. Written in the turn's transaction; erasing a customer deletes them.
CREATE TABLE prompt_asks (
    seq          bigserial   PRIMARY KEY,
    business     text        NOT NULL,
    customer     text        NOT NULL,
    flow         text        NOT NULL,
    flow_version text        NOT NULL,
    state        text        NOT NULL,
    variant      text        NOT NULL,
    at           timestamptz NOT NULL
);
CREATE INDEX prompt_asks_business_flow_at ON prompt_asks (business, flow, at);
CREATE INDEX prompt_asks_customer ON prompt_asks (business, customer);

-- +goose Down
DROP TABLE prompt_asks;
