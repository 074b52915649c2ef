-- +goose Up
-- Erasing a customer: see the PostgreSQL migration of the same number.
CREATE TABLE suppressions (
    business      TEXT    NOT NULL,
    customer_hash TEXT    NOT NULL,
    suppressed_at INTEGER NOT NULL,
    lifted_at     INTEGER NULL, -- NULL: in force
    PRIMARY KEY (business, customer_hash)
);

ALTER TABLE message_status ADD COLUMN customer TEXT NOT NULL DEFAULT '';
CREATE INDEX message_status_customer ON message_status (business, customer);

CREATE TABLE deployment_secrets (
    name       TEXT    NOT NULL PRIMARY KEY,
    value      TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- Append-only, with two updates allowed: sealing a row recorded before the
-- chain existed (00007), and erasing a customer's personal data (customer
-- 'erased:<hash>', id 'erased:<seq>', inbound id, words, prompt and salt
-- emptied, everything else unchanged).
DROP TRIGGER consent_events_no_update;
-- +goose StatementBegin
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
WHEN NOT ((OLD.hash = '' AND NEW.hash <> ''
    AND NEW.seq IS OLD.seq AND NEW.id IS OLD.id AND NEW.business IS OLD.business AND NEW.customer IS OLD.customer
    AND NEW.channel IS OLD.channel AND NEW.topic IS OLD.topic AND NEW.category IS OLD.category
    AND NEW.status IS OLD.status AND NEW.source IS OLD.source AND NEW.trigger IS OLD.trigger
    AND NEW.inbound_id IS OLD.inbound_id AND NEW.inbound_text IS OLD.inbound_text AND NEW.prompt IS OLD.prompt
    AND NEW.flow IS OLD.flow AND NEW.flow_version IS OLD.flow_version AND NEW.at IS OLD.at
    AND NEW.sender IS OLD.sender AND NEW.language IS OLD.language AND NEW.provider_at IS OLD.provider_at)
  OR (OLD.hash <> '' AND OLD.pii_salt <> '' AND NEW.pii_salt = ''
    AND NEW.customer GLOB 'erased:*' AND length(NEW.customer) = 71 AND NEW.id = 'erased:' || OLD.seq
    AND NEW.inbound_id = '' AND NEW.inbound_text = '' AND NEW.prompt = ''
    AND NEW.seq IS OLD.seq AND NEW.business IS OLD.business
    AND NEW.channel IS OLD.channel AND NEW.topic IS OLD.topic AND NEW.category IS OLD.category
    AND NEW.status IS OLD.status AND NEW.source IS OLD.source AND NEW.trigger IS OLD.trigger
    AND NEW.flow IS OLD.flow AND NEW.flow_version IS OLD.flow_version AND NEW.at IS OLD.at
    AND NEW.sender IS OLD.sender AND NEW.language IS OLD.language AND NEW.provider_at IS OLD.provider_at
    AND NEW.prev_hash IS OLD.prev_hash AND NEW.hash IS OLD.hash AND NEW.pii_digest IS OLD.pii_digest))
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only: UPDATE refused');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER consent_events_no_update;
-- +goose StatementBegin
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
WHEN NOT (OLD.hash = '' AND NEW.hash <> ''
    AND NEW.seq IS OLD.seq AND NEW.id IS OLD.id AND NEW.business IS OLD.business AND NEW.customer IS OLD.customer
    AND NEW.channel IS OLD.channel AND NEW.topic IS OLD.topic AND NEW.category IS OLD.category
    AND NEW.status IS OLD.status AND NEW.source IS OLD.source AND NEW.trigger IS OLD.trigger
    AND NEW.inbound_id IS OLD.inbound_id AND NEW.inbound_text IS OLD.inbound_text AND NEW.prompt IS OLD.prompt
    AND NEW.flow IS OLD.flow AND NEW.flow_version IS OLD.flow_version AND NEW.at IS OLD.at
    AND NEW.sender IS OLD.sender AND NEW.language IS OLD.language AND NEW.provider_at IS OLD.provider_at)
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only: UPDATE refused');
END;
-- +goose StatementEnd
DROP TABLE deployment_secrets;
DROP INDEX message_status_customer;
ALTER TABLE message_status DROP COLUMN customer;
DROP TABLE suppressions;
