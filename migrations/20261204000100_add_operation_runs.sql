-- The runs of each operation: every tctl/tsh it started, with its exact command line (secrets
-- redacted), outcome, exit code and duration, in the order they ran. Written with the outcome.
ALTER TABLE operations ADD COLUMN runs jsonb NOT NULL DEFAULT '[]'::jsonb
    CONSTRAINT operations_runs_is_array CHECK (jsonb_typeof(runs) = 'array');
