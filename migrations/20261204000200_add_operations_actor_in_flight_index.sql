-- The per-actor in-flight cap counts an actor's queued and running operations on every enqueue;
-- this keeps that count proportional to what is in flight, not to the actor's whole history.
CREATE INDEX operations_actor_in_flight_idx ON operations (actor) WHERE status IN ('queued', 'running');
