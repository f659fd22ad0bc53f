-- Up Migration

-- The version of each projector's code its read model was built by. A projector whose version in
-- code is higher has its read model rebuilt when the shop starts, while the old one keeps serving.
CREATE TABLE projection_versions (
  name text PRIMARY KEY,
  version integer NOT NULL,
  built_at timestamptz NOT NULL DEFAULT now()
);
