-- +goose Up
-- Times are timestamptz (microsecond precision, stored in UTC).
CREATE TABLE conversations (
    business        text        NOT NULL,
    customer        text        NOT NULL,
    flow            text        NOT NULL,
    flow_version    text        NOT NULL,
    state           text        NOT NULL,
    last_prompt     text        NOT NULL,
    last_inbound_at timestamptz NULL, -- NULL: zero time
    stop            json        NULL, -- bot.StopRecord; NULL: no STOP stands
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (business, customer)
);

-- The consent ledger: append-only, one row per event, in commit order (seq).
CREATE TABLE consent_events (
    seq          bigserial   PRIMARY KEY,
    id           text        NOT NULL UNIQUE,
    business     text        NOT NULL,
    customer     text        NOT NULL,
    channel      text        NOT NULL,
    topic        text        NOT NULL,
    category     text        NOT NULL,
    status       text        NOT NULL,
    source       text        NOT NULL,
    trigger      text        NOT NULL,
    inbound_id   text        NOT NULL,
    inbound_text text        NOT NULL,
    prompt       text        NOT NULL,
    flow         text        NOT NULL,
    flow_version text        NOT NULL,
    at           timestamptz NOT NULL
);
CREATE INDEX consent_events_customer_topic ON consent_events (business, customer, topic, seq);

CREATE TABLE processed_inputs (
    business     text        NOT NULL,
    dedup_id     text        NOT NULL,
    processed_at timestamptz NOT NULL,
    PRIMARY KEY (business, dedup_id)
);
CREATE INDEX processed_inputs_processed_at ON processed_inputs (processed_at);

CREATE TABLE sent_templates (
    seq      bigserial   PRIMARY KEY,
    business text        NOT NULL,
    customer text        NOT NULL,
    topic    text        NOT NULL,
    at       timestamptz NOT NULL
);
CREATE INDEX sent_templates_customer_at ON sent_templates (business, customer, at);

CREATE TABLE outbox (
    seq          bigserial   PRIMARY KEY,
    id           text        NOT NULL UNIQUE,
    effect       json        NOT NULL, -- bot.Effect as JSON
    created_at   timestamptz NOT NULL,
    published_at timestamptz NULL
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE published_at IS NULL;

CREATE TABLE flow_sources (
    name    text  NOT NULL,
    version text  NOT NULL,
    source  bytea NOT NULL,
    PRIMARY KEY (name, version)
);

-- +goose Down
DROP TABLE flow_sources;
DROP TABLE outbox;
DROP TABLE sent_templates;
DROP TABLE processed_inputs;
DROP TABLE consent_events;
DROP TABLE conversations;
