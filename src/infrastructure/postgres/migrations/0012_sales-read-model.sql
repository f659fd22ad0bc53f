-- Up Migration

-- Sales as GET /analytics/sales reports them, kept by the sales projector. A sale is a confirmed
-- order, counted on the day it was confirmed, and taken back from that day if it is cancelled
-- later. Each order keeps its stream's revision, so an event handed over again is counted once.
CREATE SCHEMA sales;

CREATE TABLE sales.orders (
  id uuid PRIMARY KEY,
  revision bigint NOT NULL,
  status text NOT NULL,
  placed_on date NOT NULL,
  -- Set while the order counts as a sale: the day its units and revenue are counted on.
  sold_on date,
  lines jsonb NOT NULL
);

CREATE INDEX orders_placed_on ON sales.orders (placed_on, status);

CREATE TABLE sales.daily (
  day date NOT NULL,
  product_id uuid NOT NULL,
  product_name text NOT NULL,
  units bigint NOT NULL,
  revenue_cents bigint NOT NULL,
  PRIMARY KEY (day, product_id)
);
