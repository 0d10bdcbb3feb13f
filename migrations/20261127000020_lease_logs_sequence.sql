-- Several writers append to a lease's log (its owner worker, the gateway's stop_proxy, the
-- reaper): a per-lease max(seq) + 1 races between them. One global sequence orders every line
-- without coordination; per lease, seq still increases.
CREATE SEQUENCE lease_logs_seq AS bigint;
SELECT setval('lease_logs_seq', coalesce((SELECT max(seq) + 1 FROM lease_logs), 1), false);
ALTER TABLE lease_logs ALTER COLUMN seq SET DEFAULT nextval('lease_logs_seq');
ALTER SEQUENCE lease_logs_seq OWNED BY lease_logs.seq;
