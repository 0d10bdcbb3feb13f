-- Live leases (starting included) whose owner agent is offline → `failed` (`owner_lost`): nobody
-- can stop their processes any more except the owner's next incarnation, which kills leftovers at
-- start. $1 now, $2 limit.
WITH lost AS (
    SELECT l.lease_id, a.agent_id, a.host
    FROM leases l JOIN agents a ON a.agent_id = l.agent_id
    WHERE l.status IN ('starting', 'active', 'stopping') AND a.status = 'offline'
    LIMIT $2
    FOR UPDATE OF l SKIP LOCKED),
failed AS (
    UPDATE leases l SET status = 'failed', stop_reason = 'owner_lost', ended_at = $1
    FROM lost WHERE l.lease_id = lost.lease_id
    RETURNING l.lease_id, lost.agent_id, lost.host),
logged AS (
    INSERT INTO lease_logs (lease_id, at, stream, line)
    SELECT f.lease_id, $1, 'system',
           'owner worker ' || f.agent_id || ' on ' || f.host || ' offline; lease failed (owner_lost)'
    FROM failed f)
SELECT lease_id FROM failed
