-- Up Migration

-- What the checkout process of each order knows, moved in the same transaction as the checkout
-- saga's checkpoint: after a crash it is exactly as of the last event the saga got past.
CREATE TABLE checkout_processes (
  order_id text PRIMARY KEY,
  state jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The deadlines the checkout processes recorded (an order's expiry, the next charge), written with
-- the process state; the single active deadline worker fires what is due. One of each kind per
-- order: a later charge replaces the one before it.
CREATE TABLE checkout_deadlines (
  order_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('expire-order', 'charge')),
  attempt integer NOT NULL CHECK (attempt >= 1),
  due_at timestamptz NOT NULL,
  correlation_id text NOT NULL,
  -- Set once a firing began: a charge begun before may have reached the provider.
  started_at timestamptz,
  failures integer NOT NULL DEFAULT 0,
  last_error text,
  -- Set after too many failures: left for an operator, never fired again on its own.
  parked_at timestamptz,
  PRIMARY KEY (order_id, kind)
);

CREATE INDEX checkout_deadlines_due ON checkout_deadlines (due_at) WHERE parked_at IS NULL;

-- The payment provider simulator's ledger: what a real provider keeps on its side. One charge per
-- idempotency key; asked again, it answers what it answered first.
CREATE TABLE payment_simulator_charges (
  idempotency_key text PRIMARY KEY,
  token text NOT NULL,
  amount_cents bigint NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('captured', 'declined')),
  -- The charge reference when captured, why not when declined.
  detail text NOT NULL,
  charged_at timestamptz NOT NULL DEFAULT now()
);
