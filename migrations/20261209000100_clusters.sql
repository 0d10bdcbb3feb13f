-- Several Teleport clusters. A call names the configured cluster it runs on (`operations.cluster`,
-- also in its job), a worker registers the clusters whose identities it holds (`agents.clusters`),
-- and a worker claims only calls of those: each cluster is its own lane. Rows from before have
-- no cluster: they belong to the default cluster, whichever that is configured to be.
ALTER TABLE operations ADD COLUMN cluster text;
ALTER TABLE agents ADD COLUMN clusters text[];

-- The enqueue of 20261205000200, recording the job's cluster with the call.
CREATE OR REPLACE FUNCTION mtcp_enqueue(
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
                            status, lane, payload, mutating, run_after, max_attempts, coalesce_key, coalesced_into,
                            cluster)
    VALUES (p_op_id, p_request_id, p_actor, p_actor_role, p_capability, p_tool, p_inputs, p_reason, p_ticket,
            p_decision, 'queued', p_lane, p_payload, p_mutating, now(), p_max_attempts, p_coalesce_key, leader,
            p_payload ->> 'cluster');
    IF leader IS NULL THEN
        PERFORM pg_notify(p_channel, p_lane);
        outcome := 'queued';
    ELSE
        outcome := 'coalesced';
    END IF;
    RETURN NEXT;
END
$$;

-- A cluster's last call that ran (`list_clusters`), without reading the trail.
CREATE INDEX operations_cluster_ended_idx ON operations (cluster, ended_at DESC)
    WHERE cluster IS NOT NULL AND started_at IS NOT NULL AND ended_at IS NOT NULL;
