-- +goose Up
-- Times are INTEGER microseconds since the Unix epoch, UTC.
CREATE TABLE conversations (
    business        TEXT    NOT NULL,
    customer        TEXT    NOT NULL,
    flow            TEXT    NOT NULL,
    flow_version    TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    last_prompt     TEXT    NOT NULL,
    last_inbound_at INTEGER NULL, -- NULL: zero time
    stop            TEXT    NULL, -- bot.StopRecord as JSON; NULL: no STOP stands
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (business, customer)
) WITHOUT ROWID;

-- The consent ledger: append-only, one row per event, in commit order (seq).
CREATE TABLE consent_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,
    business     TEXT    NOT NULL,
    customer     TEXT    NOT NULL,
    channel      TEXT    NOT NULL,
    topic        TEXT    NOT NULL,
    category     TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    trigger      TEXT    NOT NULL,
    inbound_id   TEXT    NOT NULL,
    inbound_text TEXT    NOT NULL,
    prompt       TEXT    NOT NULL,
    flow         TEXT    NOT NULL,
    flow_version TEXT    NOT NULL,
    at           INTEGER NOT NULL
);
CREATE INDEX consent_events_customer_topic ON consent_events (business, customer, topic, seq);

CREATE TABLE processed_inputs (
    business     TEXT    NOT NULL,
    dedup_id     TEXT    NOT NULL,
    processed_at INTEGER NOT NULL,
    PRIMARY KEY (business, dedup_id)
) WITHOUT ROWID;
CREATE INDEX processed_inputs_processed_at ON processed_inputs (processed_at);

CREATE TABLE sent_templates (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    business TEXT    NOT NULL,
    customer TEXT    NOT NULL,
    topic    TEXT    NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX sent_templates_customer_at ON sent_templates (business, customer, at);

CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,
    effect       TEXT    NOT NULL, -- bot.Effect as JSON
    created_at   INTEGER NOT NULL,
    published_at INTEGER NULL
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE published_at IS NULL;

CREATE TABLE flow_sources (
    name    TEXT NOT NULL,
    version TEXT NOT NULL,
    source  BLOB NOT NULL,
    PRIMARY KEY (name, version)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE flow_sources;
DROP TABLE outbox;
DROP TABLE sent_templates;
DROP TABLE processed_inputs;
DROP TABLE consent_events;
DROP TABLE conversations;
