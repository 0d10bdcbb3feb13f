-- Two-person approval of risky calls. A call the policy says needs approval is recorded
-- `awaiting_approval`: a row with its job (lane, payload) that is not claimable, because only
-- `queued` rows are. Approval turns it `queued` in the transaction that records the last approval;
-- a denial ends it `denied`, the reaper ends an unapproved one `expired`. Nothing of it ever ran.

ALTER TABLE operations DROP CONSTRAINT operations_status_check;
ALTER TABLE operations ADD CONSTRAINT operations_status_check CHECK (status IN
    ('denied', 'awaiting_approval', 'queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled', 'expired'));

ALTER TABLE operations DROP CONSTRAINT operations_end_matches_status;
ALTER TABLE operations ADD CONSTRAINT operations_end_matches_status CHECK (
    (status IN ('awaiting_approval', 'queued', 'running')) = (ended_at IS NULL));

-- A waiting call carries its job, ready to queue; an ended one forgets the unredacted payload.
ALTER TABLE operations DROP CONSTRAINT operations_active_is_a_job;
ALTER TABLE operations ADD CONSTRAINT operations_active_is_a_job CHECK (
    status NOT IN ('awaiting_approval', 'queued', 'running')
    OR (lane IS NOT NULL AND payload IS NOT NULL AND mutating IS NOT NULL AND run_after IS NOT NULL
        AND max_attempts IS NOT NULL));
ALTER TABLE operations DROP CONSTRAINT operations_ended_forgets_payload;
ALTER TABLE operations ADD CONSTRAINT operations_ended_forgets_payload CHECK (
    status IN ('awaiting_approval', 'queued', 'running') OR payload IS NULL);
ALTER TABLE operations ADD CONSTRAINT operations_expired_not_run CHECK (
    status <> 'expired' OR (started_at IS NULL AND attempt = 0));

-- The calls waiting for a decision, oldest first: what approvers list and the reaper expires.
CREATE INDEX operations_awaiting_approval_idx ON operations (created_at) WHERE status = 'awaiting_approval';

-- What a waiting call needs: the digest of the exact call, who may approve it, how many, until
-- when, and (for `start_proxy`) the lease it creates once approved.
CREATE TABLE approval_requests (
    op_id              uuid PRIMARY KEY REFERENCES operations (op_id) ON DELETE CASCADE,
    -- SHA-256 of the canonical validated call (tool and arguments, as the worker runs it).
    args_sha256        text NOT NULL CHECK (args_sha256 ~ '^[0-9a-f]{64}$'),
    -- {"roles": [...], "actors": [...], "groups": [...]}
    approvers          jsonb NOT NULL,
    approvals_required integer NOT NULL CHECK (approvals_required BETWEEN 1 AND 10),
    expires_at         timestamptz NOT NULL,
    -- The lease `start_proxy` creates at approval: kind, target, listen address, TTL, the cap.
    lease_plan         jsonb,
    -- When the last approval queued the call.
    approved_at        timestamptz
);

-- Each decision by each approver: one per person and call, so nobody is counted twice.
CREATE TABLE approvals (
    op_id         uuid NOT NULL REFERENCES approval_requests (op_id) ON DELETE CASCADE,
    approver      text NOT NULL CHECK (length(approver) BETWEEN 1 AND 256),
    approver_role text NOT NULL,
    verdict       text NOT NULL CHECK (verdict IN ('approve', 'deny')),
    reason        text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1024),
    -- The CLI or a tool call (then the approver's own operation).
    via           text NOT NULL,
    at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (op_id, approver)
);

-- Webhook messages to deliver (an outbox): written in the transaction of the change they announce,
-- delivered at least once with backoff by the gateways, never holding up a call.
CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    op_id           uuid REFERENCES operations (op_id) ON DELETE CASCADE,
    event           text NOT NULL,
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    failed_at       timestamptz,
    last_error      text
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
