-- Leases past their expiry → `stopping` (reason `expired`): owners are told at once (NOTIFY) and
-- a system line tells the user why. $1 now, $2 limit, $3 the leases channel.
WITH due AS (
    SELECT lease_id FROM leases
    WHERE status IN ('starting', 'active') AND expires_at <= $1
    ORDER BY expires_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED),
moved AS (
    UPDATE leases l SET status = 'stopping', stop_reason = 'expired'
    FROM due WHERE l.lease_id = due.lease_id
    RETURNING l.lease_id, l.expires_at),
logged AS (
    INSERT INTO lease_logs (lease_id, at, stream, line)
    SELECT m.lease_id, $1, 'system',
           'expired at ' || to_char(m.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
               || ' (TTL passed); stopping'
    FROM moved m)
SELECT lease_id FROM moved, LATERAL (SELECT pg_notify($3, lease_id::text)) n
