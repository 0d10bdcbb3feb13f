-- Edge agents: `mtcp-edge` processes on the machines that need a lease's port. An edge agent has a
-- name, an owner (the actor it serves) and a credential (stored as its SHA-256); each run of it is
-- an `agents` row of kind `edge`, so the reaper's silence rule and `owner_lost` apply unchanged.
-- A lease placed on an edge agent is started by that agent only: its start is on the `edge` lane,
-- which workers never claim.

CREATE TABLE edge_agents (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    owner       text NOT NULL CHECK (length(owner) BETWEEN 1 AND 256),
    sha256      bytea NOT NULL UNIQUE CHECK (length(sha256) = 32),
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

ALTER TABLE agents ADD COLUMN edge_name text REFERENCES edge_agents (name) ON DELETE CASCADE;
ALTER TABLE agents ADD CONSTRAINT agents_edge_has_name CHECK ((kind = 'edge') = (edge_name IS NOT NULL));

ALTER TABLE leases ADD COLUMN edge_agent text REFERENCES edge_agents (name);
CREATE INDEX leases_edge_agent_live_idx ON leases (edge_agent) WHERE status IN ('starting', 'active', 'stopping');

ALTER TABLE operations DROP CONSTRAINT operations_lane_known;
ALTER TABLE operations ADD CONSTRAINT operations_lane_known CHECK (lane IN ('tools', 'leases', 'edge'));
