-- One row per process incarnation of a worker (or, later, an edge agent).
CREATE TABLE agents (
    agent_id          uuid PRIMARY KEY,
    kind              text NOT NULL CHECK (kind IN ('worker', 'edge')),
    host              text NOT NULL,
    boot_id           text NOT NULL,
    pid               integer NOT NULL CHECK (pid > 0),
    version           text NOT NULL,
    started_at        timestamptz NOT NULL DEFAULT now(),
    last_heartbeat_at timestamptz NOT NULL DEFAULT now(),
    status            text NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'offline')),
    offline_at        timestamptz,
    CONSTRAINT agents_offline_has_time CHECK ((status = 'offline') = (offline_at IS NOT NULL))
);

CREATE INDEX agents_online_heartbeat_idx ON agents (last_heartbeat_at) WHERE status = 'online';
CREATE INDEX agents_host_idx ON agents (host, boot_id);
