-- Up Migration

-- The catalog as GET /products and GET /categories list it, kept by the catalog projector. Its
-- tables live in a schema of their own: a rebuild fills a copy of the schema (its tables made LIKE
-- these, indexes included) and swaps it in by name. Each row keeps the revision of the stream it
-- was folded from, so an event handed over again changes nothing.
CREATE SCHEMA catalog;

CREATE TABLE catalog.products (
  id uuid PRIMARY KEY,
  revision bigint NOT NULL,
  name text NOT NULL,
  description text,
  price_cents bigint NOT NULL,
  category_id uuid,
  image_url text,
  active boolean NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  -- The name weighs more than the description in a search's rank.
  search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', name), 'A') ||
    setweight(to_tsvector('english', coalesce(description, '')), 'B')
  ) STORED
);

-- Only active products are listed: every index is of those.
CREATE INDEX products_search ON catalog.products USING gin (search) WHERE active;
CREATE INDEX products_by_name ON catalog.products (name, id) WHERE active;
CREATE INDEX products_by_price ON catalog.products (price_cents, id) WHERE active;
CREATE INDEX products_by_created_at ON catalog.products (created_at, id) WHERE active;
CREATE INDEX products_by_category ON catalog.products (category_id) WHERE active;

-- A product's stock, from its inventory stream; a product never restocked has no row (0 available).
CREATE TABLE catalog.stock (
  product_id uuid PRIMARY KEY,
  revision bigint NOT NULL,
  on_hand bigint NOT NULL,
  reserved bigint NOT NULL
);

CREATE TABLE catalog.categories (
  id uuid PRIMARY KEY,
  revision bigint NOT NULL,
  name text NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE INDEX categories_by_name ON catalog.categories (name, id);
