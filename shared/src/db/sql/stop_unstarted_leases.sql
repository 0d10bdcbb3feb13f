-- Leases stopped (or expired) before any worker took them: `stopping` with no owner, so nobody
-- would ever end them. Ended at once if the start operation is terminal (no worker will come),
-- otherwise once older than the start deadline. A start `running` is left to its worker (or to
-- recovery if it died). An expired one ends `expired`, a stopped one `stopped`; the start
-- operation, if still queued, is cancelled (announced).
-- $1 now, $2 created before, $3 limit, $4 the operations channel.
WITH unstarted AS (
    SELECT l.lease_id FROM leases l JOIN operations o ON o.op_id = l.op_id
    WHERE l.status = 'stopping' AND l.agent_id IS NULL
      AND o.status <> 'running' AND (o.status <> 'queued' OR l.created_at < $2)
    ORDER BY l.created_at
    LIMIT $3
    FOR UPDATE OF l SKIP LOCKED),
ended AS (
    UPDATE leases l SET status = CASE WHEN l.stop_reason = 'expired' THEN 'expired' ELSE 'stopped' END,
                        ended_at = $1
    FROM unstarted WHERE l.lease_id = unstarted.lease_id
    RETURNING l.lease_id, l.op_id, l.status),
logged AS (
    INSERT INTO lease_logs (lease_id, at, stream, line)
    SELECT d.lease_id, $1, 'system', 'no worker had started this lease; nothing to stop; ' || d.status
    FROM ended d),
op_cancelled AS (
    UPDATE operations o SET status = 'cancelled', ended_at = $1, payload = NULL,
           error = 'the lease was ' || d.status || ' before a worker started it; nothing ran'
    FROM ended d WHERE o.op_id = d.op_id AND o.status = 'queued'
    RETURNING o.op_id, d.lease_id, d.status),
op_logged AS (
    INSERT INTO operation_events (op_id, at, kind, payload)
    SELECT x.op_id, $1, 'state',
           jsonb_build_object('status', 'cancelled', 'reason', 'lease_' || x.status || '_before_start', 'by', 'reaper',
                              'lease_id', x.lease_id)
    FROM op_cancelled x)
SELECT d.lease_id FROM ended d
    LEFT JOIN LATERAL (SELECT pg_notify($4, x.op_id::text) FROM op_cancelled x WHERE x.op_id = d.op_id) n ON true
