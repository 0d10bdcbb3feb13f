-- Teleport audit events ingested from the event-handler plugin or `mtcp audit import`, keyed by
-- Teleport's own uid so re-delivery is idempotent. `raw` is the redacted event.
CREATE TABLE audit_events (
    uid         text PRIMARY KEY CHECK (length(uid) BETWEEN 1 AND 128),
    time        timestamptz NOT NULL,
    event       text NOT NULL CHECK (length(event) BETWEEN 1 AND 128),
    code        text,
    "user"      text,
    success     boolean,
    remote_addr text,
    cluster     text,
    raw         jsonb NOT NULL,
    ingested_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX audit_events_time_idx ON audit_events (time);
CREATE INDEX audit_events_event_time_idx ON audit_events (event, time);
CREATE INDEX audit_events_user_time_idx ON audit_events ("user", time);
