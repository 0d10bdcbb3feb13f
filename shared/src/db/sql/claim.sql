-- Claim the next call of a lane for a worker, fairly across actors. Each queued call is ranked by
-- its actor's share: the actor's calls already running in the lane plus its own place among the
-- actor's queued ones, then by age. One actor's burst of 40 slow calls ranks 1…40 (plus what
-- runs), another actor's single call ranks 1: it is taken as soon as a slot frees. The candidates
-- are a few of the best; the first one no other worker holds is taken (SKIP LOCKED), so concurrent
-- claims never wait on each other. Only queued rows are read (a partial index), whatever the size
-- of the trail; coalesced followers are never claimed (their leader runs for them). `more` says
-- whether other candidates were left, so a worker that took the last one waits for a wake-up
-- instead of asking again. $1 lane, $2 worker id, $3 the clusters the worker serves, $4 whether one
-- of them is the default cluster (which also runs calls recorded before there were several).
--
-- Each cluster is its own lane: a worker never takes a call of a cluster whose identity it does not
-- hold, and a call of a cluster no worker serves stays queued.
--
-- A read's claim commits without waiting for the WAL flush: if a crash loses it, the read runs
-- again (reads are at least once), and nothing of it is answered before its finish, which commits
-- synchronously and so flushes this too. A mutation's claim waits for the flush: at most once
-- means no crash may put a call that started changing Teleport back in the queue.
WITH running AS (
    SELECT actor, count(*) AS n FROM operations
    WHERE status = 'running' AND lane = $1 AND (cluster = ANY($3) OR (cluster IS NULL AND $4))
    GROUP BY actor),
queued AS (
    SELECT op_id, actor, created_at,
           row_number() OVER (PARTITION BY actor ORDER BY created_at, op_id) AS nth
    FROM operations
    WHERE status = 'queued' AND coalesced_into IS NULL AND lane = $1 AND run_after <= now()
      AND (cluster = ANY($3) OR (cluster IS NULL AND $4))),
ranked AS (
    SELECT q.op_id, q.nth + coalesce(r.n, 0) AS share, q.created_at
    FROM queued q LEFT JOIN running r USING (actor)
    ORDER BY share, q.created_at
    LIMIT 16),
picked AS (
    SELECT o.op_id FROM operations o JOIN ranked k USING (op_id)
    WHERE o.status = 'queued'
    ORDER BY k.share, k.created_at
    LIMIT 1
    FOR UPDATE OF o SKIP LOCKED)
UPDATE operations o
SET status = 'running', attempt = o.attempt + 1, worker_id = $2, started_at = now()
FROM picked
WHERE o.op_id = picked.op_id
RETURNING o.op_id, o.payload, o.attempt, extract(epoch FROM now() - o.created_at)::float8 AS waited,
          (SELECT count(*) FROM ranked) > 1 AS more,
          set_config('synchronous_commit', CASE WHEN o.mutating THEN 'on' ELSE 'off' END, true) AS commit_mode
