-- +goose Up
-- Quality reports of the businesses' sender numbers (bot.QualityEvent):
-- the rating and messaging limit after each provider event, and whether it
-- was a downgrade. id is the provider event's id, so a redelivered event is
-- recorded once.
CREATE TABLE quality_events (
    seq             bigserial   PRIMARY KEY,
    id              TEXT        NOT NULL UNIQUE,
    business        TEXT        NOT NULL,
    provider        TEXT        NOT NULL,
    sender          TEXT        NOT NULL,
    rating          TEXT        NOT NULL,
    event           TEXT        NOT NULL,
    tier            TEXT        NOT NULL,
    previous_rating TEXT        NOT NULL,
    previous_tier   TEXT        NOT NULL,
    downgrade       BOOLEAN     NOT NULL,
    provider_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL
);
CREATE INDEX quality_events_sender ON quality_events (business, sender, seq);

-- +goose Down
DROP TABLE quality_events;
