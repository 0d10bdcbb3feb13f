-- Long-running `tsh proxy …` / `tsh vnet` processes: each is a lease with an owner, a TTL and a heartbeat.
CREATE TABLE leases (
    lease_id              uuid PRIMARY KEY,
    op_id                 uuid NOT NULL REFERENCES operations (op_id),
    kind                  text NOT NULL CHECK (kind IN
                              ('proxy_ssh', 'proxy_db', 'proxy_app', 'proxy_kube', 'proxy_mcp', 'vnet')),
    actor                 text NOT NULL,
    cluster               text,
    target                jsonb NOT NULL DEFAULT '{}'::jsonb,
    listen_addr           text,
    requested_listen_addr text,
    agent_id              uuid REFERENCES agents (agent_id),
    host                  text,
    pid                   integer CHECK (pid IS NULL OR pid > 0),
    pid_start_time        bigint,
    created_at            timestamptz NOT NULL DEFAULT now(),
    expires_at            timestamptz NOT NULL,
    status                text NOT NULL CHECK (status IN
                              ('starting', 'active', 'stopping', 'stopped', 'expired', 'failed')),
    stop_reason           text,
    last_heartbeat_at     timestamptz,
    ended_at              timestamptz,
    exit_code             integer,
    CONSTRAINT leases_expiry_after_creation CHECK (expires_at > created_at),
    -- An active lease has an owner and a process.
    CONSTRAINT leases_active_has_owner CHECK (
        status <> 'active' OR (agent_id IS NOT NULL AND pid IS NOT NULL AND host IS NOT NULL)
    ),
    CONSTRAINT leases_end_matches_status CHECK (
        (status IN ('starting', 'active', 'stopping')) = (ended_at IS NULL)
    ),
    CONSTRAINT leases_stopped_has_reason CHECK (
        status NOT IN ('stopping', 'stopped', 'expired', 'failed') OR stop_reason IS NOT NULL
    )
);

CREATE INDEX leases_actor_live_idx ON leases (actor) WHERE status IN ('starting', 'active', 'stopping');
CREATE INDEX leases_expiry_live_idx ON leases (expires_at) WHERE status IN ('starting', 'active');
CREATE INDEX leases_agent_live_idx ON leases (agent_id) WHERE status IN ('starting', 'active', 'stopping');

-- The last lines a lease's processes printed (redacted); trimmed to a configured number per lease.
CREATE TABLE lease_logs (
    lease_id uuid NOT NULL REFERENCES leases (lease_id) ON DELETE CASCADE,
    seq      bigint NOT NULL CHECK (seq >= 0),
    at       timestamptz NOT NULL DEFAULT now(),
    stream   text NOT NULL CHECK (stream IN ('stdout', 'stderr', 'system')),
    line     text NOT NULL,
    PRIMARY KEY (lease_id, seq)
);
