-- +goose Up
-- Erasing a customer (bot.Service.EraseCustomer). The suppression list
-- keeps the customers erased without a standing opt-in off the business's
-- messages, by a keyed hash of their number (bot.CustomerHash), never the
-- number. A row stays when the customer opts in again in the chat: lifted_at
-- says when.
CREATE TABLE suppressions (
    business      text        NOT NULL,
    customer_hash text        NOT NULL,
    suppressed_at timestamptz NOT NULL,
    lifted_at     timestamptz NULL, -- NULL: in force
    PRIMARY KEY (business, customer_hash)
);

-- The customer a message status is about, so that an erase finds the
-- statuses of the customer's messages ('' for rows of before).
ALTER TABLE message_status ADD COLUMN customer text NOT NULL DEFAULT '';
CREATE INDEX message_status_customer ON message_status (business, customer);

-- Secrets the deployment made for itself: the suppression key when the
-- configuration sets none.
CREATE TABLE deployment_secrets (
    name       text        NOT NULL PRIMARY KEY,
    value      text        NOT NULL,
    created_at timestamptz NOT NULL
);

-- The ledger stays append-only, with one more update allowed besides the
-- sealing of 00007: erasing a customer's personal data. It replaces the
-- customer by 'erased:<customer hash>' and the id by 'erased:<seq>', empties
-- the inbound id, the words, the prompt and the salt, and changes nothing
-- else: the chain hash and the personal data's digest stay, so the chain
-- still verifies (bot.ConsentEvent.Erased).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION consent_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
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
        IF OLD.hash <> '' AND OLD.pii_salt <> '' AND NEW.pii_salt = ''
           AND NEW.customer ~ '^erased:[0-9a-f]{64}$' AND NEW.id = 'erased:' || OLD.seq
           AND NEW.inbound_id = '' AND NEW.inbound_text = '' AND NEW.prompt = ''
           AND (NEW.seq, NEW.business, NEW.channel, NEW.topic, NEW.category, NEW.status, NEW.source, NEW.trigger,
                NEW.flow, NEW.flow_version, NEW.at, NEW.sender, NEW.language, NEW.provider_at,
                NEW.prev_hash, NEW.hash, NEW.pii_digest)
               IS NOT DISTINCT FROM
               (OLD.seq, OLD.business, OLD.channel, OLD.topic, OLD.category, OLD.status, OLD.source, OLD.trigger,
                OLD.flow, OLD.flow_version, OLD.at, OLD.sender, OLD.language, OLD.provider_at,
                OLD.prev_hash, OLD.hash, OLD.pii_digest) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'consent_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'consent events are evidence: record a new event instead of changing one';
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION consent_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
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
DROP TABLE deployment_secrets;
DROP INDEX message_status_customer;
ALTER TABLE message_status DROP COLUMN customer;
DROP TABLE suppressions;
