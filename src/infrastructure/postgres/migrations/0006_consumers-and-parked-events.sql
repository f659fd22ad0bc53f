-- Up Migration

-- Every consumer of the event stream keeps its checkpoint here, moved in the same transaction as
-- its effects. -1 is "before the first event", so that the row exists, and can be locked, from the
-- start: an instance checks it is where it left it before handling more.
CREATE TABLE consumer_checkpoints (
  consumer text PRIMARY KEY,
  position bigint NOT NULL DEFAULT -1 CHECK (position >= -1),
  updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO consumer_checkpoints (consumer, position, updated_at)
  SELECT subscriber, position, updated_at FROM subscription_checkpoints;

DROP TABLE subscription_checkpoints;

-- Events a consumer could not handle, and every later event of the same stream for that consumer,
-- until they are retried: nothing is built from part of a stream's history.
CREATE TABLE parked_events (
  consumer text NOT NULL REFERENCES consumer_checkpoints (consumer),
  stream_id text NOT NULL,
  revision bigint NOT NULL,
  position bigint NOT NULL,
  event_id uuid NOT NULL,
  error text NOT NULL,
  attempts integer NOT NULL,
  parked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, position)
);

CREATE INDEX parked_events_by_stream ON parked_events (consumer, stream_id, position);
