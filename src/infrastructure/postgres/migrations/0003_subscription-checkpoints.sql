-- Up Migration

-- How far each subscriber of the event store has got: it resumes after this position on restart.
CREATE TABLE subscription_checkpoints (
  subscriber text PRIMARY KEY,
  position bigint NOT NULL CHECK (position >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);
