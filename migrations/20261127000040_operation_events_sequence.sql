-- Progress (the worker) and state events (the reaper) are appended to the same operation
-- concurrently: a per-operation max(seq) + 1 races between them. One global sequence orders every
-- event without coordination; per operation, seq still increases.
ALTER TABLE operation_events ALTER COLUMN seq TYPE bigint;
CREATE SEQUENCE operation_events_seq AS bigint;
SELECT setval('operation_events_seq', coalesce((SELECT max(seq) + 1 FROM operation_events), 1), false);
ALTER TABLE operation_events ALTER COLUMN seq SET DEFAULT nextval('operation_events_seq');
ALTER SEQUENCE operation_events_seq OWNED BY operation_events.seq;
