-- Up Migration

-- Event data and metadata are stored as the JSON text the writer sent (json), not decomposed
-- (jsonb): events are written once and read whole, never searched inside, and converting to and
-- from jsonb was a third of the cost of an append. The hash chain is computed over the canonical
-- form, so it does not depend on how the text is stored.
ALTER TABLE es_events
  ALTER COLUMN data TYPE json USING data::json,
  ALTER COLUMN metadata TYPE json USING metadata::json;

DROP FUNCTION es_append(text[], text[], bigint[], int[], uuid[], text[], jsonb[], jsonb[], text[], timestamptz);

CREATE FUNCTION es_append(
  p_stream_ids text[],
  p_categories text[],
  p_expected_revisions bigint[],
  p_event_counts int[],
  p_event_ids uuid[],
  p_types text[],
  p_data json[],
  p_metadata json[],
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
