-- Reads `running` on a worker incarnation that is now offline, with attempts left: back to
-- `queued` (at least once for reads), a `state` event records it, and the lane is woken.
-- $1 now, $2 limit, $3 the queue channel.
WITH lost AS (
    SELECT o.op_id, o.lane, a.agent_id, a.host
    FROM operations o
    JOIN agents a ON a.agent_id::text = o.worker_id
    WHERE o.status = 'running' AND NOT o.mutating AND o.attempt < o.max_attempts AND a.status = 'offline'
    ORDER BY o.created_at
    LIMIT $2
    FOR UPDATE OF o SKIP LOCKED),
requeued AS (
    UPDATE operations o SET status = 'queued', worker_id = NULL, started_at = NULL, run_after = $1, progress = NULL
    FROM lost x WHERE o.op_id = x.op_id
    RETURNING x.op_id, x.lane, x.agent_id, x.host),
logged AS (
    INSERT INTO operation_events (op_id, at, kind, payload)
    SELECT r.op_id, $1, 'state',
           jsonb_build_object('status', 'queued', 'reason', 'worker_offline', 'by', 'reaper', 'action', 'requeued',
                              'worker_id', r.agent_id, 'host', r.host,
                              'detail', 'its worker went offline; queued again for another worker')
    FROM requeued r)
SELECT r.op_id FROM requeued r, LATERAL (SELECT pg_notify($3, r.lane)) n
