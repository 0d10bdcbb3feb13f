-- What a waiting access request would make reachable: a `check_policy` operation of the requester,
-- run by a worker when the request starts waiting, whose result carries the blast radius that
-- approvers see next to the call. Its loss (retention) only loses the preview.
ALTER TABLE approval_requests ADD COLUMN impact_op uuid REFERENCES operations (op_id) ON DELETE SET NULL;
