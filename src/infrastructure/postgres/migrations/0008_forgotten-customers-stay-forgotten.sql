-- Up Migration

-- A forgotten customer keeps a row without a key, so that sealing a later event of theirs (the
-- checkout saga still at work on their order, say) records the field as erased instead of creating
-- a new key, under which their earlier values would no longer open and would read as tampered.
ALTER TABLE customer_data_keys ALTER COLUMN data_key DROP NOT NULL;
