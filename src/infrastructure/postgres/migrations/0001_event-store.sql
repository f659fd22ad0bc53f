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

-- Appends events after p_expected_revision (-1: the stream must not exist). The caller computes each
-- event's canonical text; the chain hash is sha256(previous hash || canonical text), as in hashChain.ts.
CREATE FUNCTION es_append(
  p_stream_id text,
  p_category text,
  p_expected_revision bigint,
  p_event_ids uuid[],
  p_types text[],
  p_data jsonb[],
  p_metadata jsonb[],
  p_canonical text[],
  p_recorded_at timestamptz
) RETURNS TABLE (last_position bigint, last_revision bigint) LANGUAGE plpgsql AS $$
DECLARE
  v_count int := cardinality(p_event_ids);
  v_first_index int := coalesce(nullif(current_setting('es.appended_in_transaction', true), ''), '0')::int;
  v_head_revision bigint;
  v_previous_hash text;
  v_previous_hashes text[] := '{}';
  v_hashes text[] := '{}';
  v_base bigint;
BEGIN
  SELECT e.revision, e.hash INTO v_head_revision, v_previous_hash
    FROM es_events e WHERE e.stream_id = p_stream_id ORDER BY e.revision DESC LIMIT 1;
  IF coalesce(v_head_revision, -1) <> p_expected_revision THEN
    RAISE EXCEPTION 'wrong expected version' USING ERRCODE = 'ES001', DETAIL = coalesce(v_head_revision, -1)::text;
  END IF;
  IF v_first_index + v_count > 65536 THEN
    RAISE EXCEPTION 'more than 65536 events in one transaction' USING ERRCODE = 'ES003';
  END IF;
  v_previous_hash := coalesce(v_previous_hash, repeat('0', 64));
  FOR i IN 1..v_count LOOP
    v_previous_hashes[i] := v_previous_hash;
    v_previous_hash := encode(sha256(convert_to(v_previous_hash || p_canonical[i], 'UTF8')), 'hex');
    v_hashes[i] := v_previous_hash;
  END LOOP;
  SELECT ((pg_current_xact_id()::text::bigint + o.xid_offset) << 16) + v_first_index INTO v_base
    FROM es_position_offset o;
  INSERT INTO es_events (position, event_id, stream_id, category, revision, type, data, metadata,
                         recorded_at, previous_hash, hash)
  SELECT v_base + t.n - 1, t.event_id, p_stream_id, p_category, p_expected_revision + t.n, t.type, t.data,
         t.metadata, p_recorded_at, t.previous_hash, t.hash
    FROM unnest(p_event_ids, p_types, p_data, p_metadata, v_previous_hashes, v_hashes)
         WITH ORDINALITY AS t(event_id, type, data, metadata, previous_hash, hash, n);
  PERFORM set_config('es.appended_in_transaction', (v_first_index + v_count)::text, true);
  RETURN QUERY SELECT v_base + v_count - 1, p_expected_revision + v_count;
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
