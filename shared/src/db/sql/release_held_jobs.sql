-- The jobs an apalis worker of a live process still holds after that consumer failed (its
-- database connection broke) and every job it had started has ended: fetched but never started
-- (`Queued`), or run with the acknowledgement lost (`Running`). They go back to `Pending` and
-- workers are woken the way apalis announces new jobs; the claim then skips finished operations,
-- re-runs reads and ends a started mutation `outcome_unknown`. $1 the apalis worker name.
WITH released AS (
    UPDATE apalis.jobs SET status = 'Pending', lock_by = NULL, lock_at = NULL, done_at = NULL,
           last_result = jsonb_build_object('Err', 'Released by ' || $1 || ' after its queue connection failed.')
    WHERE lock_by = $1 AND status IN ('Queued', 'Running')
    RETURNING id, job_type)
SELECT count(*) FROM released r,
    LATERAL (SELECT pg_notify('apalis::job::insert', json_build_object('job_type', r.job_type, 'id', r.id)::text)) n
