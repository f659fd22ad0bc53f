-- Up Migration

-- Orders as GET /orders lists them, kept by the orders projector: each order as its own fold has
-- it, and its payment as the payment's fold has it, beside it. Personal fields (the shipping
-- address, the payment method) stay as the events hold them, sealed with the customer's key, and
-- are opened when served: a forgotten customer's orders read erased here too.
CREATE SCHEMA orders;

CREATE TABLE orders.orders (
  id uuid PRIMARY KEY,
  revision bigint NOT NULL,
  user_id text NOT NULL,
  status text NOT NULL,
  placed_at timestamptz NOT NULL,
  state jsonb NOT NULL
);

-- A customer's orders newest first, with or without a status; an admin's, of everyone.
CREATE INDEX orders_of_customer ON orders.orders (user_id, placed_at DESC, id DESC);
CREATE INDEX orders_of_customer_by_status ON orders.orders (user_id, status, placed_at DESC, id DESC);
CREATE INDEX orders_by_status ON orders.orders (status, placed_at DESC, id DESC);
CREATE INDEX orders_newest ON orders.orders (placed_at DESC, id DESC);

CREATE TABLE orders.payments (
  order_id uuid PRIMARY KEY,
  revision bigint NOT NULL,
  state jsonb NOT NULL
);
