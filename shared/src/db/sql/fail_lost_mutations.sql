-- Operations `running` on a worker incarnation that is now offline and not known to be read-only:
-- at most once, so they are never re-run; they end `failed` with `outcome_unknown` (announced),
-- a `state` event says what happened, and their job is killed so no other worker picks it up.
-- $1 now, $2 the read-only tool names, $3 limit, $4 the operations channel.
WITH lost AS (
    SELECT o.op_id, o.tool, o.attempt, o.worker_id, a.host
    FROM operations o
    JOIN agents a ON a.agent_id = CASE
        WHEN o.worker_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN o.worker_id::uuid END
    WHERE o.status = 'running' AND NOT (o.tool = ANY($2)) AND a.status = 'offline'
    ORDER BY o.created_at
    LIMIT $3
    FOR UPDATE OF o SKIP LOCKED),
failed AS (
    UPDATE operations o SET status = 'failed', ended_at = $1,
           error = format('outcome_unknown: attempt %s of this %s was running on worker %s (%s), which went offline '
                          'before reporting; it was not run again. Verify in Teleport whether it took effect before '
                          'retrying.', lost.attempt, lost.tool, lost.worker_id, lost.host)
    FROM lost WHERE o.op_id = lost.op_id
    RETURNING o.op_id, lost.worker_id, lost.host, lost.attempt),
logged AS (
    INSERT INTO operation_events (op_id, at, kind, payload)
    SELECT f.op_id, $1, 'state',
           jsonb_build_object('status', 'failed', 'reason', 'outcome_unknown', 'by', 'reaper', 'attempt', f.attempt,
                              'worker_id', f.worker_id, 'host', f.host,
                              'detail', 'its worker went offline while it ran; not re-run')
    FROM failed f),
killed AS (
    UPDATE apalis.jobs j SET status = 'Killed', done_at = $1,
           last_result = jsonb_build_object('Err', 'outcome_unknown: its worker went offline while it ran; not re-run')
    FROM failed f WHERE j.id = mtcp_job_id(f.op_id) AND j.status IN ('Pending', 'Queued', 'Running'))
SELECT f.op_id FROM failed f, LATERAL (SELECT pg_notify($4, f.op_id::text)) n
