-- Up Migration

-- An event's global position is (transaction id + offset) * 65536 + its index among the events its
-- transaction appended. Readers only take events of transactions older than every transaction still
-- running (the snapshot's xmin), so positions arrive in strictly increasing order and a transaction
-- that commits late can never be skipped: it holds delivery back instead. The offset stays 0 unless
-- the events were restored into a cluster whose transaction ids are lower (es_ensure_positions_advance).
CREATE TABLE es_position_offset (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  xid_offset bigint NOT NULL DEFAULT 0
);
INSERT INTO es_position_offset DEFAULT VALUES;

CREATE TABLE es_events (
  position bigint PRIMARY KEY,
  event_id uuid NOT NULL CONSTRAINT es_events_event_id UNIQUE,
  stream_id text NOT NULL,
  category text NOT NULL,
  revision bigint NOT NULL,
  type text NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL,
  recorded_at timestamptz NOT NULL,
  previous_hash text NOT NULL,
  hash text NOT NULL,
  CONSTRAINT es_events_stream_revision UNIQUE (stream_id, revision)
);
CREATE INDEX es_events_category_position ON es_events (category, position);

CREATE FUNCTION es_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are immutable: % on es_events is refused', TG_OP USING ERRCODE = 'ES002';
END $$;

CREATE TRIGGER es_events_immutable_rows BEFORE UPDATE OR DELETE ON es_events
  FOR EACH ROW EXECUTE FUNCTION es_reject_change();
CREATE TRIGGER es_events_immutable_table BEFORE TRUNCATE ON es_events
  FOR EACH STATEMENT EXECUTE FUNCTION es_reject_change();

-- Appends a batch of appends in one transaction, each all or nothing: the events of append k are
-- the next p_event_counts[k] entries of the event arrays, placed after p_expected_revisions[k] (-1:
-- the stream must not exist yet). An append whose expectation fails writes nothing and answers the
-- stream's actual revision instead of a position. The caller computes each event's canonical text;
-- the chain hash is sha256(previous hash || canonical text), as in hashChain.ts.
CREATE FUNCTION es_append(
  p_stream_ids text[],
  p_categories text[],
  p_expected_revisions bigint[],
  p_event_counts int[],
  p_event_ids uuid[],
  p_types text[],
  p_data jsonb[],
  p_metadata jsonb[],
  p_canonical text[],
  p_recorded_at timestamptz
) RETURNS TABLE (last_position bigint, last_revision bigint, actual_revision bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_index int := coalesce(nullif(current_setting('es.appended_in_transaction', true), ''), '0')::int;
  v_base bigint;
  v_event int := 0;
  v_head_revision bigint;
  v_hash text;
  v_previous_hashes text[];
  v_hashes text[];
BEGIN
  IF v_index + cardinality(p_event_ids) > 65536 THEN
    RAISE EXCEPTION 'more than 65536 events in one transaction' USING ERRCODE = 'ES003';
  END IF;
  SELECT (pg_current_xact_id()::text::bigint + o.xid_offset) << 16 INTO v_base FROM es_position_offset o;
  FOR k IN 1..cardinality(p_stream_ids) LOOP
    v_head_revision := NULL;
    v_hash := NULL;
    SELECT e.revision, e.hash INTO v_head_revision, v_hash
      FROM es_events e WHERE e.stream_id = p_stream_ids[k] ORDER BY e.revision DESC LIMIT 1;
    IF coalesce(v_head_revision, -1) <> p_expected_revisions[k] THEN
      v_event := v_event + p_event_counts[k];
      RETURN QUERY SELECT NULL::bigint, NULL::bigint, coalesce(v_head_revision, -1);
      CONTINUE;
    END IF;
    v_hash := coalesce(v_hash, repeat('0', 64));
    v_previous_hashes := '{}';
    v_hashes := '{}';
    FOR i IN 1..p_event_counts[k] LOOP
      v_previous_hashes[i] := v_hash;
      v_hash := encode(sha256(convert_to(v_hash || p_canonical[v_event + i], 'UTF8')), 'hex');
      v_hashes[i] := v_hash;
    END LOOP;
    INSERT INTO es_events (position, event_id, stream_id, category, revision, type, data, metadata,
                           recorded_at, previous_hash, hash)
    SELECT v_base + v_index + t.n - 1, t.event_id, p_stream_ids[k], p_categories[k],
           p_expected_revisions[k] + t.n, t.type, t.data, t.metadata, p_recorded_at, t.previous_hash, t.hash
      FROM unnest(p_event_ids[v_event + 1:v_event + p_event_counts[k]],
                  p_types[v_event + 1:v_event + p_event_counts[k]],
                  p_data[v_event + 1:v_event + p_event_counts[k]],
                  p_metadata[v_event + 1:v_event + p_event_counts[k]],
                  v_previous_hashes, v_hashes)
           WITH ORDINALITY AS t(event_id, type, data, metadata, previous_hash, hash, n);
    v_event := v_event + p_event_counts[k];
    v_index := v_index + p_event_counts[k];
    RETURN QUERY SELECT v_base + v_index - 1, p_expected_revisions[k] + p_event_counts[k], NULL::bigint;
  END LOOP;
  PERFORM set_config('es.appended_in_transaction', v_index::text, true);
  -- Delivered at commit. NOTIFY serialises committing transactions behind one lock, which costs
  -- little here: each process writes one batch at a time (see AppendBatcher).
  PERFORM pg_notify('es_events', '');
END $$;

-- The horizon: every event below it belongs to a finished transaction, so reading up to it never
-- leaves a gap behind. It is computed in the reader's own statement, from the snapshot it reads with.
CREATE FUNCTION es_horizon() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT (pg_snapshot_xmin(pg_current_snapshot())::text::bigint + o.xid_offset) << 16 FROM es_position_offset o
$$;

-- After a restore into another cluster, transaction ids may start below the stored positions; this
-- moves the offset so new events still land after every stored one.
CREATE FUNCTION es_ensure_positions_advance() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_stored_xid bigint := (SELECT max(position) >> 16 FROM es_events);
  v_current_xid bigint := pg_current_xact_id()::text::bigint;
BEGIN
  UPDATE es_position_offset SET xid_offset = v_stored_xid - v_current_xid + 1
   WHERE v_stored_xid IS NOT NULL AND v_current_xid + xid_offset <= v_stored_xid;
END $$;
