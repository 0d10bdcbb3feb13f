-- Operations `running` on a worker incarnation that is now offline which may not run again: a
-- mutation (at most once), or a read that used its last attempt. They end `failed` (a mutation
-- with `outcome_unknown`), announced, and a `state` event says what happened.
-- $1 now, $2 limit, $3 the operations channel.
WITH lost AS (
    SELECT o.op_id, o.tool, o.attempt, o.mutating, o.worker_id, a.host
    FROM operations o
    JOIN agents a ON a.agent_id::text = o.worker_id
    WHERE o.status = 'running' AND (o.mutating OR o.attempt >= o.max_attempts) AND a.status = 'offline'
    ORDER BY o.created_at
    LIMIT $2
    FOR UPDATE OF o SKIP LOCKED),
failed AS (
    UPDATE operations o SET status = 'failed', ended_at = $1, payload = NULL,
           error = CASE WHEN lost.mutating THEN
               format('outcome_unknown: attempt %s of this %s was running on worker %s (%s), which went offline '
                      'before reporting; it was not run again. Verify in Teleport whether it took effect before '
                      'retrying.', lost.attempt, lost.tool, lost.worker_id, lost.host)
           ELSE
               format('attempt %s of this %s was lost with worker %s (%s), which went offline; that was its '
                      'last attempt. Call it again.', lost.attempt, lost.tool, lost.worker_id, lost.host)
           END
    FROM lost WHERE o.op_id = lost.op_id
    RETURNING o.op_id, lost.worker_id, lost.host, lost.attempt, lost.mutating),
logged AS (
    INSERT INTO operation_events (op_id, at, kind, payload)
    SELECT f.op_id, $1, 'state',
           jsonb_build_object('status', 'failed', 'reason', CASE WHEN f.mutating THEN 'outcome_unknown'
                                                                 ELSE 'attempts_exhausted' END,
                              'by', 'reaper', 'attempt', f.attempt, 'worker_id', f.worker_id, 'host', f.host,
                              'detail', 'its worker went offline while it ran; not re-run')
    FROM failed f)
SELECT f.op_id FROM failed f, LATERAL (SELECT pg_notify($3, f.op_id::text)) n
