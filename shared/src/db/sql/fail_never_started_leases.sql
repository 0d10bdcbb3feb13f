-- Leases still `starting` with no owner past the start deadline → `failed` (`never_started`): no
-- worker took the start job. Their operation, if still queued, fails with them (announced), so a
-- late worker cannot start a lease nobody waits for any more. A start operation `running` is left alone: a live worker governs it with its own start timeout,
-- and the recovery sweep ends it if that worker died.
-- $1 now, $2 created before, $3 limit, $4 the deadline as text, $5 the operations channel.
WITH stale AS (
    SELECT l.lease_id FROM leases l JOIN operations o ON o.op_id = l.op_id
    WHERE l.status = 'starting' AND l.agent_id IS NULL AND l.created_at < $2 AND o.status <> 'running'
    ORDER BY l.created_at
    LIMIT $3
    FOR UPDATE OF l SKIP LOCKED),
failed AS (
    UPDATE leases l SET status = 'failed', stop_reason = 'never_started', ended_at = $1
    FROM stale WHERE l.lease_id = stale.lease_id
    RETURNING l.lease_id, l.op_id, l.edge_agent),
logged AS (
    INSERT INTO lease_logs (lease_id, at, stream, line)
    SELECT f.lease_id, $1, 'system',
           CASE WHEN f.edge_agent IS NULL THEN 'no worker started'
                ELSE 'edge agent ' || f.edge_agent || ' (offline?) did not start' END
               || ' this lease within ' || $4 || '; failed (never_started)'
    FROM failed f),
op_failed AS (
    UPDATE operations o SET status = 'failed', ended_at = $1, payload = NULL,
           error = CASE WHEN f.edge_agent IS NULL THEN 'no worker took'
                        ELSE 'edge agent ' || f.edge_agent || ' (offline?) did not take' END
               || ' this start within ' || $4 || '; the lease failed (never_started). Start it again once '
               || CASE WHEN f.edge_agent IS NULL THEN 'workers are' ELSE 'the agent is' END || ' available.'
    FROM failed f WHERE o.op_id = f.op_id AND o.status = 'queued'
    RETURNING o.op_id, f.lease_id),
op_logged AS (
    INSERT INTO operation_events (op_id, at, kind, payload)
    SELECT x.op_id, $1, 'state',
           jsonb_build_object('status', 'failed', 'reason', 'never_started', 'by', 'reaper',
                              'lease_id', x.lease_id, 'detail', 'no worker took the start job within ' || $4)
    FROM op_failed x)
SELECT f.lease_id FROM failed f
    LEFT JOIN LATERAL (SELECT pg_notify($5, x.op_id::text) FROM op_failed x WHERE x.op_id = f.op_id) n ON true
