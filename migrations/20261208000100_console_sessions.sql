-- Sign-ins to the operations console. The cookie carries the session id (signed); only its
-- SHA-256 is kept here, so a read of this table signs nobody in. An API-key sign-in keeps the key's
-- SHA-256 (what `api_keys` and `auth.api_keys` already hold, never the key) so that every request
-- re-checks the key: a revoked or expired key ends its console sessions at once. An OIDC sign-in
-- keeps the actor its access token vouched for and ends when that token expires.
CREATE TABLE console_sessions (
    session_sha256 bytea PRIMARY KEY CHECK (length(session_sha256) = 32),
    key_sha256     bytea CHECK (key_sha256 IS NULL OR length(key_sha256) = 32),
    actor          jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL
);

CREATE INDEX console_sessions_expires_idx ON console_sessions (expires_at);
