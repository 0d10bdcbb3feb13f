-- What the reaper's sweeps need: the apalis job id of an operation in SQL, and indexes that keep
-- each sweep proportional to the rows it acts on rather than to the size of the tables.

-- The apalis job id of an operation: the same 128 bits as ULID text (Crockford base32, 26 chars),
-- so recovery can go from an operation to its job with a primary-key lookup.
CREATE FUNCTION mtcp_job_id(op_id uuid) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', substring(b FROM i * 5 + 1 FOR 5)::integer + 1, 1),
                      '' ORDER BY i)
    FROM (SELECT B'00' || ('x' || translate(op_id::text, '-', ''))::bit(128) AS b) bits, generate_series(0, 25) AS i
$$;

-- Retention keeps operations that a lease still references, and deleting an operation checks the
-- foreign key from leases: both look leases up by op_id.
CREATE INDEX leases_op_idx ON leases (op_id);

-- Leases no worker has taken (never started, or stopped before a worker got to them): few rows,
-- found by age.
CREATE INDEX leases_unowned_idx ON leases (created_at)
    WHERE agent_id IS NULL AND status IN ('starting', 'stopping');

-- Retention of ended leases, oldest first.
CREATE INDEX leases_ended_idx ON leases (ended_at) WHERE ended_at IS NOT NULL;
