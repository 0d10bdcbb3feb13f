-- API keys managed with `mtcp keys`: only the SHA-256 of a key is stored, never the key.
CREATE TABLE api_keys (
    key_id       uuid PRIMARY KEY,
    actor        text NOT NULL CHECK (length(actor) BETWEEN 1 AND 256),
    role         text NOT NULL CHECK (length(role) BETWEEN 1 AND 64),
    kind         text NOT NULL DEFAULT 'user' CHECK (kind IN ('user', 'service')),
    sha256       bytea NOT NULL UNIQUE CHECK (length(sha256) = 32),
    description  text CHECK (description IS NULL OR length(description) <= 256),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    CONSTRAINT api_keys_expiry_after_creation CHECK (expires_at IS NULL OR expires_at > created_at)
);

-- Per-actor rate limiting shared by every gateway replica (GCRA: one row per actor holding the
-- theoretical arrival time of the next call).
CREATE TABLE rate_limits (
    actor text PRIMARY KEY,
    tat   timestamptz NOT NULL
);
