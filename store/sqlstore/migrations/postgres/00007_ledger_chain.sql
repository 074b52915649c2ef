-- +goose Up
-- Evidence-grade ledger: the sender number, the prompt's language and the
-- provider's timestamp join the evidence, and every event is linked into
-- its business's hash chain (bot.ConsentEvent.ChainHash). Rows recorded
-- before this migration are sealed into the chain, in commit order, when
-- the store next opens.
ALTER TABLE consent_events
    ADD COLUMN sender      text        NOT NULL DEFAULT '',
    ADD COLUMN language    text        NOT NULL DEFAULT '',
    ADD COLUMN provider_at timestamptz NULL, -- NULL: no provider involved
    ADD COLUMN prev_hash   text        NOT NULL DEFAULT '',
    ADD COLUMN hash        text        NOT NULL DEFAULT '',
    -- the personal data enters the chain as a salted digest (bot.PIIDigest),
    -- so erasing a customer keeps the chain whole
    ADD COLUMN pii_salt    text        NOT NULL DEFAULT '',
    ADD COLUMN pii_digest  text        NOT NULL DEFAULT '';

-- The last hash of each business's chain. Appending takes the business's
-- row lock, so a business's events chain in commit order; the head also
-- shows when events were cut off the end of the ledger.
-- A business's ledger in commit order: verification, export.
CREATE INDEX consent_events_business_seq ON consent_events (business, seq);

CREATE TABLE ledger_heads (
    business text NOT NULL PRIMARY KEY,
    hash     text NOT NULL
);

-- The ledger is append-only for every role that does not own the trigger:
-- UPDATE, DELETE and TRUNCATE are refused. The one update allowed seals a
-- row recorded before the chain existed: it sets prev_hash and hash once
-- (with the personal data's salt and digest) and changes nothing else.
-- +goose StatementBegin
CREATE FUNCTION consent_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.hash = '' AND NEW.hash <> ''
           AND (NEW.seq, NEW.id, NEW.business, NEW.customer, NEW.channel, NEW.topic, NEW.category, NEW.status,
                NEW.source, NEW.trigger, NEW.inbound_id, NEW.inbound_text, NEW.prompt, NEW.flow, NEW.flow_version,
                NEW.at, NEW.sender, NEW.language, NEW.provider_at)
               IS NOT DISTINCT FROM
               (OLD.seq, OLD.id, OLD.business, OLD.customer, OLD.channel, OLD.topic, OLD.category, OLD.status,
                OLD.source, OLD.trigger, OLD.inbound_id, OLD.inbound_text, OLD.prompt, OLD.flow, OLD.flow_version,
                OLD.at, OLD.sender, OLD.language, OLD.provider_at) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'consent_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'consent events are evidence: record a new event instead of changing one';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER consent_events_append_only BEFORE UPDATE OR DELETE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION consent_events_append_only();
CREATE TRIGGER consent_events_no_truncate BEFORE TRUNCATE ON consent_events
    FOR EACH STATEMENT EXECUTE FUNCTION consent_events_append_only();

-- +goose Down
DROP TRIGGER consent_events_no_truncate ON consent_events;
DROP TRIGGER consent_events_append_only ON consent_events;
DROP FUNCTION consent_events_append_only();
DROP TABLE ledger_heads;
DROP INDEX consent_events_business_seq;
ALTER TABLE consent_events
    DROP COLUMN pii_digest,
    DROP COLUMN pii_salt,
    DROP COLUMN hash,
    DROP COLUMN prev_hash,
    DROP COLUMN provider_at,
    DROP COLUMN language,
    DROP COLUMN sender;
