-- +goose Up
-- Evidence-grade ledger: see the PostgreSQL migration of the same number.
ALTER TABLE consent_events ADD COLUMN sender      TEXT    NOT NULL DEFAULT '';
ALTER TABLE consent_events ADD COLUMN language    TEXT    NOT NULL DEFAULT '';
ALTER TABLE consent_events ADD COLUMN provider_at INTEGER NULL; -- NULL: no provider involved
ALTER TABLE consent_events ADD COLUMN prev_hash   TEXT    NOT NULL DEFAULT '';
ALTER TABLE consent_events ADD COLUMN hash        TEXT    NOT NULL DEFAULT '';
ALTER TABLE consent_events ADD COLUMN pii_salt    TEXT    NOT NULL DEFAULT '';
ALTER TABLE consent_events ADD COLUMN pii_digest  TEXT    NOT NULL DEFAULT '';

-- A business's ledger in commit order: verification, export.
CREATE INDEX consent_events_business_seq ON consent_events (business, seq);

CREATE TABLE ledger_heads (
    business TEXT NOT NULL PRIMARY KEY,
    hash     TEXT NOT NULL
);

-- Append-only: DELETE is refused, and the one UPDATE allowed seals a row
-- recorded before the chain existed (sets prev_hash and hash once).
-- +goose StatementBegin
CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only: DELETE refused');
END;
-- +goose StatementEnd
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

-- +goose Down
DROP TRIGGER consent_events_no_update;
DROP TRIGGER consent_events_no_delete;
DROP TABLE ledger_heads;
DROP INDEX consent_events_business_seq;
ALTER TABLE consent_events DROP COLUMN pii_digest;
ALTER TABLE consent_events DROP COLUMN pii_salt;
ALTER TABLE consent_events DROP COLUMN hash;
ALTER TABLE consent_events DROP COLUMN prev_hash;
ALTER TABLE consent_events DROP COLUMN provider_at;
ALTER TABLE consent_events DROP COLUMN language;
ALTER TABLE consent_events DROP COLUMN sender;
