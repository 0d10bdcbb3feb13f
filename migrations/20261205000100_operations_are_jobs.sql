-- The operation row is the job: one state machine per call. A queued or running operation carries
-- what a queue row needs (its lane, the typed call as the worker runs it, whether it changes
-- Teleport, when it may run, how many attempts it may take); workers claim it with one UPDATE … FOR
-- UPDATE SKIP LOCKED and finish it with one UPDATE. apalis-postgres' tables go.

ALTER TABLE operations
    ADD COLUMN lane text CONSTRAINT operations_lane_known CHECK (lane IN ('tools', 'leases')),
    -- The call as the worker runs it (unredacted arguments): kept only while the operation is
    -- active, cleared when it ends; `inputs` keeps the redacted record.
    ADD COLUMN payload jsonb,
    ADD COLUMN mutating boolean,
    ADD COLUMN run_after timestamptz,
    ADD COLUMN max_attempts integer CONSTRAINT operations_max_attempts_positive CHECK (max_attempts >= 1);

-- The queue of the previous release: the payload of every active operation's apalis job (the same
-- JSON), its queue and its attempts (a mutation was pushed with exactly one).
UPDATE operations o
SET lane = j.job_type, payload = convert_from(j.job, 'UTF8')::jsonb, mutating = (j.max_attempts = 1),
    run_after = o.created_at, max_attempts = greatest(j.max_attempts, o.attempt, 1)
FROM apalis.jobs j
WHERE o.status IN ('queued', 'running') AND j.id = mtcp_job_id(o.op_id) AND j.job_type IN ('tools', 'leases');

-- An active operation whose job was lost cannot run: it ends, saying so.
UPDATE operations
SET status = 'failed', ended_at = now(),
    error = 'its queued job was missing when the control plane was upgraded; it was not run. Call it again.'
WHERE status IN ('queued', 'running') AND payload IS NULL;

ALTER TABLE operations
    ADD CONSTRAINT operations_active_is_a_job CHECK (
        status NOT IN ('queued', 'running')
        OR (lane IS NOT NULL AND payload IS NOT NULL AND mutating IS NOT NULL AND run_after IS NOT NULL
            AND max_attempts IS NOT NULL)),
    ADD CONSTRAINT operations_ended_forgets_payload CHECK (status IN ('queued', 'running') OR payload IS NULL),
    -- At most once: a call that changes Teleport is never attempted twice.
    ADD CONSTRAINT operations_mutation_runs_once CHECK (NOT mutating OR max_attempts = 1);

-- What a worker may claim, oldest first per lane: only queued rows, so a trail of millions of
-- finished operations costs the claim nothing.
CREATE INDEX operations_claimable_idx ON operations (lane, run_after, created_at) WHERE status = 'queued';
-- Running operations by the worker holding them: recovery of an offline worker's work.
CREATE INDEX operations_running_worker_idx ON operations (worker_id) WHERE status = 'running';

DROP FUNCTION mtcp_job_id(uuid);
DROP SCHEMA apalis CASCADE;
