-- A call is admitted and queued in one round trip, and identical concurrent reads share one run.
--
-- `mtcp_enqueue` takes the caller's rate-limit allowance, counts its calls in flight under the
-- actor's lock, and inserts the operation queued (waking its lane) — what was five statements in a
-- transaction. A read that may be coalesced names its key (tool, canonical arguments, Teleport
-- identity); when an operation with that key is already queued or running, the new one is recorded
-- as its follower (`coalesced_into`): its own row, decision and rate-limit charge, no run of its
-- own. `mtcp_settle_follower` gives a follower its leader's outcome once the leader has ended, or
-- puts it back on the queue when the leader was cancelled (a caller's cancellation is not an answer
-- for anyone else).

ALTER TABLE operations
    ADD COLUMN coalesce_key text,
    ADD COLUMN coalesced_into uuid,
    -- When the answer was produced: a follower's is its leader's start.
    ADD COLUMN as_of timestamptz;

-- Followers are never claimed: the claimable index leaves them out.
DROP INDEX operations_claimable_idx;
CREATE INDEX operations_claimable_idx ON operations (lane, run_after, created_at)
    WHERE status = 'queued' AND coalesced_into IS NULL;
-- The run a new read may join.
CREATE INDEX operations_coalesce_idx ON operations (coalesce_key)
    WHERE status IN ('queued', 'running') AND coalesced_into IS NULL AND coalesce_key IS NOT NULL;
-- Followers still waiting, for the reaper's sweep.
CREATE INDEX operations_followers_idx ON operations (coalesced_into)
    WHERE status = 'queued' AND coalesced_into IS NOT NULL;

-- Take one call from an actor's allowance (GCRA): each call moves the actor's theoretical arrival
-- time (TAT) forward by p_emission seconds; a call is refused when the TAT would run more than
-- p_per seconds ahead of now. NULL when taken; else the seconds until the next call fits. One row
-- lock per call, no race, on every replica.
CREATE FUNCTION mtcp_take_allowance(p_actor text, p_emission float8, p_per float8) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
    v_wait float8;
BEGIN
    INSERT INTO rate_limits AS r (actor, tat) VALUES (p_actor, now() + make_interval(secs => p_emission))
    ON CONFLICT (actor) DO UPDATE SET tat = greatest(r.tat, now()) + make_interval(secs => p_emission)
    WHERE greatest(r.tat, now()) + make_interval(secs => p_emission) <= now() + make_interval(secs => p_per);
    IF FOUND THEN
        RETURN NULL;
    END IF;
    -- Refused: the next call fits once the TAT has come within `per` of now again.
    SELECT greatest(extract(epoch FROM (r.tat + make_interval(secs => p_emission)
                                        - make_interval(secs => p_per) - now())), 0)::float8
    INTO v_wait FROM rate_limits r WHERE r.actor = p_actor;
    RETURN coalesce(v_wait, 0);
END
$$;

-- Admit and queue one call. The rate limit (`mtcp_take_allowance`) is skipped when
-- p_rate_emission is NULL, the in-flight cap when p_cap is NULL, coalescing when p_coalesce_key is
-- NULL. outcome: 'queued' | 'coalesced' (leader: the run joined) | 'rate_limited' (retry_after,
-- seconds) | 'cap_reached' (in_flight). Refused calls write nothing here but the allowance taken.
--
-- p_flush_later: commit without waiting for the WAL flush. The actor's lock (and rate-limit row)
-- is then held for the statement only, not for a disk flush too — under one busy actor, the flush
-- was most of what serialised its calls. Nothing is answered, and nothing changes Teleport, before
-- a synchronous commit has flushed it (a flush writes all WAL before it, this insert included): a
-- mutation's claim, a read's finish, a follower's settle. A crash may lose a call not yet answered,
-- whose caller is then told the database failed (a read may have run: reads are at least once) —
-- never the record of a change, nor of an answer given. A caller answered at enqueue (a task)
-- must pass false.
CREATE FUNCTION mtcp_enqueue(
    p_op_id uuid, p_request_id text, p_actor text, p_actor_role text, p_capability text, p_tool text,
    p_inputs jsonb, p_reason text, p_ticket text, p_decision jsonb,
    p_lane text, p_payload jsonb, p_mutating boolean, p_max_attempts integer,
    p_rate_emission float8, p_rate_per float8, p_cap integer, p_coalesce_key text, p_channel text,
    p_flush_later boolean)
RETURNS TABLE (outcome text, retry_after float8, in_flight bigint, leader uuid)
LANGUAGE plpgsql AS $$
DECLARE
BEGIN
    IF p_flush_later THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    IF p_rate_emission IS NOT NULL THEN
        retry_after := mtcp_take_allowance(p_actor, p_rate_emission, p_rate_per);
        IF retry_after IS NOT NULL THEN
            outcome := 'rate_limited';
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;
    IF p_cap IS NOT NULL THEN
        -- Serialises the actor's concurrent enqueues until this statement ends, on every replica.
        PERFORM pg_advisory_xact_lock(hashtextextended('mtcp-in-flight:' || p_actor, 0));
        SELECT count(*) INTO in_flight FROM operations o
        WHERE o.actor = p_actor AND o.status IN ('queued', 'running');
        IF in_flight >= p_cap THEN
            outcome := 'cap_reached';
            RETURN NEXT;
            RETURN;
        END IF;
        in_flight := NULL;
    END IF;
    IF p_coalesce_key IS NOT NULL THEN
        -- Identical reads arriving together (any actors, any replicas) queue here one at a time, so
        -- exactly one of them leads and the others see it.
        PERFORM pg_advisory_xact_lock(hashtextextended('mtcp-coalesce:' || p_coalesce_key, 0));
        SELECT o.op_id INTO leader FROM operations o
        WHERE o.coalesce_key = p_coalesce_key AND o.status IN ('queued', 'running') AND o.coalesced_into IS NULL
        ORDER BY o.created_at DESC
        LIMIT 1;
    END IF;
    INSERT INTO operations (op_id, request_id, actor, actor_role, capability, tool, inputs, reason, ticket, decision,
                            status, lane, payload, mutating, run_after, max_attempts, coalesce_key, coalesced_into)
    VALUES (p_op_id, p_request_id, p_actor, p_actor_role, p_capability, p_tool, p_inputs, p_reason, p_ticket,
            p_decision, 'queued', p_lane, p_payload, p_mutating, now(), p_max_attempts, p_coalesce_key, leader);
    IF leader IS NULL THEN
        PERFORM pg_notify(p_channel, p_lane);
        outcome := 'queued';
    ELSE
        outcome := 'coalesced';
    END IF;
    RETURN NEXT;
END
$$;

-- Settle a follower whose leader has ended, then return the follower if it has ended. A leader
-- that succeeded, failed or timed out gives its outcome (the same answer, stamped with when it was
-- produced); a cancelled one gives none: the follower goes back on the queue to run on its own.
-- Guarded on `queued`, so the waiting gateway and the reaper may both try. p_channel: the queue's.
CREATE FUNCTION mtcp_settle_follower(p_op_id uuid, p_channel text) RETURNS SETOF operations
LANGUAGE plpgsql AS $$
DECLARE
    l operations%ROWTYPE;
    v_lane text;
BEGIN
    SELECT ld.* INTO l FROM operations f JOIN operations ld ON ld.op_id = f.coalesced_into
    WHERE f.op_id = p_op_id AND f.status = 'queued' AND ld.status NOT IN ('queued', 'running');
    IF FOUND THEN
        IF l.status = 'cancelled' THEN
            UPDATE operations SET coalesced_into = NULL, run_after = now()
            WHERE op_id = p_op_id AND status = 'queued'
            RETURNING lane INTO v_lane;
            IF FOUND THEN
                PERFORM pg_notify(p_channel, v_lane);
            END IF;
        ELSE
            UPDATE operations
            SET status = l.status, ended_at = now(), exit_code = l.exit_code, result = l.result, error = l.error,
                teleport_audit_refs = l.teleport_audit_refs, payload = NULL, as_of = l.started_at
            WHERE op_id = p_op_id AND status = 'queued';
        END IF;
    END IF;
    RETURN QUERY SELECT * FROM operations WHERE op_id = p_op_id AND status NOT IN ('queued', 'running');
END
$$;
