-- Jobs held (`Queued` in its buffer or `Running`) by a worker incarnation that is now offline,
-- whose operation may run again: it never started (still `queued`), or it is a read-only one
-- (at least once). They go back to `Pending`, a `state` event records it, and workers are woken
-- the way apalis announces new jobs. Running mutations are not here: they end `outcome_unknown`.
-- The worker's claim re-runs a read found `running`. $1 now, $2 the read-only tool names, $3 limit.
WITH orphans AS (
    SELECT o.op_id, j.id AS job_id, j.job_type, a.agent_id, a.host
    FROM operations o
    JOIN apalis.jobs j ON j.id = mtcp_job_id(o.op_id)
    -- apalis worker names are `worker-<agent id>` (tools queue) and `leases-<agent id>` (leases
    -- queue), with `-r<n>` once the worker rebuilt its queue consumer after a database failure.
    JOIN agents a ON a.agent_id = substring(j.lock_by
        FROM '^(?:worker|leases)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:-r[0-9]+)?$')::uuid
    WHERE o.status IN ('queued', 'running') AND (o.status = 'queued' OR o.tool = ANY($2))
      AND j.status IN ('Queued', 'Running') AND a.status = 'offline'
    ORDER BY o.created_at
    LIMIT $3
    FOR UPDATE OF j SKIP LOCKED),
requeued AS (
    UPDATE apalis.jobs j SET status = 'Pending', lock_by = NULL, lock_at = NULL, done_at = NULL,
           attempts = j.attempts + 1,
           last_result = jsonb_build_object('Err', 'Re-enqueued by the reaper: worker ' || x.agent_id || ' is offline.')
    FROM orphans x WHERE j.id = x.job_id
    RETURNING x.op_id, x.job_id, x.job_type, x.agent_id, x.host),
logged AS (
    INSERT INTO operation_events (op_id, at, kind, payload)
    SELECT r.op_id, $1, 'state',
           jsonb_build_object('status', 'queued', 'reason', 'worker_offline', 'by', 'reaper', 'action', 'requeued',
                              'worker_id', r.agent_id, 'host', r.host,
                              'detail', 'its worker went offline; queued again for another worker')
    FROM requeued r)
SELECT r.op_id FROM requeued r,
    LATERAL (SELECT pg_notify('apalis::job::insert', json_build_object('job_type', r.job_type, 'id', r.job_id)::text)) n
