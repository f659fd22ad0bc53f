-- Up Migration

-- es_append's notification tells the position of the transaction's last event and the categories
-- of the streams it appended to, instead of nothing: subscribers were woken by every append, and
-- read again to find either nothing new or nothing of their category. It no longer notifies when
-- every append of the call failed its expectation, since nothing was written. The body is 0005's
-- otherwise.

CREATE OR REPLACE FUNCTION es_append(
  p_stream_ids text[],
  p_categories text[],
  p_expected_revisions bigint[],
  p_event_counts int[],
  p_events json,
  p_recorded_at timestamptz
) RETURNS TABLE (last_position bigint, last_revision bigint, actual_revision bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_index int := coalesce(nullif(current_setting('es.appended_in_transaction', true), ''), '0')::int;
  v_base bigint;
  v_event int := 0;
  v_head_revision bigint;
  v_hash text;
  -- json keeps each element's text as sent, so its text is the canonical text the hash covers.
  v_events json[];
  v_previous_hashes text[];
  v_hashes text[];
  v_categories text[] := '{}';
BEGIN
  SELECT array_agg(e ORDER BY n) INTO v_events FROM json_array_elements(p_events) WITH ORDINALITY AS x(e, n);
  IF v_index + cardinality(v_events) > 65536 THEN
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
      v_hash := encode(sha256(convert_to(v_hash || v_events[v_event + i]::text, 'UTF8')), 'hex');
      v_hashes[i] := v_hash;
    END LOOP;
    INSERT INTO es_events (position, event_id, stream_id, category, revision, type, data, metadata,
                           recorded_at, previous_hash, hash)
    SELECT v_base + v_index + t.n - 1, r.id, p_stream_ids[k], p_categories[k],
           p_expected_revisions[k] + t.n, r.type, r.data, r.metadata, p_recorded_at, t.previous_hash, t.hash
      FROM unnest(v_events[v_event + 1:v_event + p_event_counts[k]], v_previous_hashes, v_hashes)
           WITH ORDINALITY AS t(event, previous_hash, hash, n)
           CROSS JOIN LATERAL json_to_record(t.event) AS r(id uuid, type text, data json, metadata json);
    v_event := v_event + p_event_counts[k];
    v_index := v_index + p_event_counts[k];
    v_categories := array_append(v_categories, p_categories[k]);
    RETURN QUERY SELECT v_base + v_index - 1, p_expected_revisions[k] + p_event_counts[k], NULL::bigint;
  END LOOP;
  PERFORM set_config('es.appended_in_transaction', v_index::text, true);
  -- Delivered at commit. NOTIFY serialises committing transactions behind one lock, which costs
  -- little here: each process writes one batch at a time (see AppendBatcher). It tells where the
  -- events end and their categories, so that a subscriber that has read that far already, or
  -- follows another category, is not woken.
  IF cardinality(v_categories) > 0 THEN
    PERFORM pg_notify('es_events', json_build_object(
      'lastPosition', v_base + v_index - 1,
      'categories', (SELECT array_agg(DISTINCT c) FROM unnest(v_categories) AS c))::text);
  END IF;
END $$;
