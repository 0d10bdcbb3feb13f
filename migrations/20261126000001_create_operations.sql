-- Every tool call, allowed or denied: who did what, when, why, with what result.
CREATE TABLE operations (
    op_id               uuid PRIMARY KEY,
    request_id          text,
    actor               text NOT NULL CHECK (length(actor) BETWEEN 1 AND 256),
    actor_role          text NOT NULL,
    capability          text NOT NULL,
    tool                text NOT NULL,
    inputs              jsonb NOT NULL DEFAULT '{}'::jsonb,
    reason              text CHECK (reason IS NULL OR length(reason) <= 1024),
    ticket              text CHECK (ticket IS NULL OR length(ticket) <= 128),
    decision            jsonb NOT NULL,
    status              text NOT NULL CHECK (status IN
                            ('denied', 'queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled')),
    attempt             integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    worker_id           text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    ended_at            timestamptz,
    exit_code           integer,
    stdout              text,
    stderr              text,
    result              jsonb,
    error               text,
    teleport_audit_refs jsonb NOT NULL DEFAULT '[]'::jsonb,
    progress            jsonb,
    cancel_requested    boolean NOT NULL DEFAULT false,
    -- A terminal operation has an end time; an active one does not.
    CONSTRAINT operations_end_matches_status CHECK (
        (status IN ('queued', 'running')) = (ended_at IS NULL)
    ),
    CONSTRAINT operations_running_has_start CHECK (
        status <> 'running' OR (started_at IS NOT NULL AND worker_id IS NOT NULL)
    ),
    CONSTRAINT operations_succeeded_has_result CHECK (status <> 'succeeded' OR result IS NOT NULL),
    CONSTRAINT operations_denied_not_run CHECK (status <> 'denied' OR (started_at IS NULL AND attempt = 0))
);

CREATE INDEX operations_actor_created_idx ON operations (actor, created_at DESC);
CREATE INDEX operations_created_idx ON operations (created_at);
CREATE INDEX operations_active_idx ON operations (status, created_at) WHERE status IN ('queued', 'running');

-- Progress, log and state events of an operation: the source of progress streams and history.
CREATE TABLE operation_events (
    op_id   uuid NOT NULL REFERENCES operations (op_id) ON DELETE CASCADE,
    seq     integer NOT NULL CHECK (seq >= 0),
    at      timestamptz NOT NULL DEFAULT now(),
    kind    text NOT NULL CHECK (kind IN ('progress', 'log', 'state')),
    payload jsonb NOT NULL,
    PRIMARY KEY (op_id, seq)
);
