-- Up Migration

-- One AES-256 key per customer for the personal fields of their events. Deleting a row erases
-- those fields everywhere (crypto-shredding): events stay immutable and their hashes still verify.
CREATE TABLE customer_data_keys (
  customer_id text PRIMARY KEY,
  data_key bytea NOT NULL CHECK (octet_length(data_key) = 32),
  created_at timestamptz NOT NULL DEFAULT now()
);
