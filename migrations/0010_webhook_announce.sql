-- Saved webhooks are cached in webhookd too (src/hookcache.c): every change to the webhook table is
-- announced on webhookd_cache like the tables of 0004, naming the table, so that the daemons drop
-- their snapshot of the webhooks, and only that (src/changes.c maps tables to caches).
--
-- Announcing after the commit. A transaction that NOTIFYs holds a database-wide lock from just
-- before its commit until the commit record is flushed (PostgreSQL keeps the notification queue in
-- commit order that way), so such transactions commit one fsync at a time, without group commit:
-- 1,460 one-row INSERTs a second with a NOTIFY each against 10,860 without, on this project's
-- machine (pgbench, 8 clients). webhookd's own writes (saves, deletes, SignalEvent) therefore set
-- webhookd.notify_after_commit = on for their sessions: their announcements wait in the session
-- (webhookd.pending, which a rollback discards with the rest) and webhookd_notify_pending() sends
-- them in a transaction of their own, which the daemon pipelines right behind each write, in the
-- same round trip. That transaction commits without waiting for the flush (a notification lives in
-- memory only, and what it announces is durable already), so it holds the lock for microseconds.
-- Every other writer (the delivery daemons, an operator's SQL) announces inside its transaction,
-- as before.

-- Sends now, or, in a session that announces after commit, keeps it for webhookd_notify_pending().
CREATE FUNCTION webhookd_notify(channel text, payload text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    pending jsonb;
    item jsonb := jsonb_build_array(jsonb_build_array(channel, payload));
BEGIN
    IF coalesce(current_setting('webhookd.notify_after_commit', true), '') <> 'on' THEN
        PERFORM pg_notify(channel, payload);
        RETURN;
    END IF;
    pending := coalesce(nullif(current_setting('webhookd.pending', true), ''), '[]')::jsonb;
    IF NOT pending @> item THEN
        -- Session-wide (not local), so it outlives the commit; a rollback undoes it all the same.
        PERFORM set_config('webhookd.pending', (pending || item)::text, false);
    END IF;
END
$$;

-- Sends what this session's committed transactions left to announce; returns how many.
CREATE FUNCTION webhookd_notify_pending() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    pending jsonb := coalesce(nullif(current_setting('webhookd.pending', true), ''), '[]')::jsonb;
    item jsonb;
BEGIN
    IF jsonb_array_length(pending) = 0 THEN
        RETURN 0;
    END IF;
    PERFORM set_config('synchronous_commit', 'off', true);
    FOR item IN SELECT value FROM jsonb_array_elements(pending) LOOP
        PERFORM pg_notify(item->>0, item->>1);
    END LOOP;
    PERFORM set_config('webhookd.pending', '', false);
    RETURN jsonb_array_length(pending);
END
$$;

CREATE OR REPLACE FUNCTION webhookd_announce_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM webhookd_notify('webhookd_cache', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

-- One announcement per statement; a rolled-back change is never announced. Writers of the table:
-- the API's saves and deletes, an operator's SQL, the cascades from associate and application, and
-- the delivery daemons turning a hook TooManyErrors (rare by design).
CREATE TRIGGER webhook_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON webhook
    FOR EACH STATEMENT EXECUTE FUNCTION webhookd_announce_change();

-- SignalEvent's wake-up of the delivery daemons, announced after commit too (0006 otherwise).
CREATE OR REPLACE FUNCTION webhook_signal_topic(topic text, event text, primary_key integer, data json,
    changed_by integer)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE queued integer;
BEGIN
    IF data IS NOT NULL AND json_typeof(data) <> 'object' THEN
        RAISE EXCEPTION 'webhook_signal: data must be a JSON object' USING ERRCODE = '22023';
    END IF;
    INSERT INTO webhook_delivery (webhook_id, event, primary_key, data, changed_by)
    SELECT w.webhook_id, event, primary_key, data, coalesce(changed_by, 0)
    FROM webhook w WHERE w.state = 1 AND w.events @> ARRAY[topic];
    GET DIAGNOSTICS queued = ROW_COUNT;
    IF queued > 0 THEN
        PERFORM webhookd_notify('webhookd_delivery', '');
    END IF;
    RETURN queued;
END
$$;

-- The checks of every saved row, in PL/pgSQL rather than SQL: a SQL function that cannot be
-- inlined is planned again at each call, and a CHECK calls it at every INSERT and UPDATE, while
-- PL/pgSQL keeps its plans for the session. The same expressions as in 0005; a save of a webhook
-- went from 3,200 to 6,700 UPDATEs a second (pgbench, 8 clients).
CREATE OR REPLACE FUNCTION webhook_event_names_valid(events text[]) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
    RETURN array_ndims(events) = 1
       AND cardinality(events) BETWEEN 1 AND 100
       AND NOT EXISTS (SELECT 1 FROM unnest(events) AS e
                       WHERE e IS NULL OR octet_length(e) NOT BETWEEN 1 AND 200 OR e ~ '[\s,[:cntrl:]]')
       AND cardinality(events) = (SELECT count(DISTINCT e) FROM unnest(events) AS e);
END
$$;

CREATE OR REPLACE FUNCTION webhook_custom_headers_valid(headers json) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
    RETURN webhook_headers_valid(headers::jsonb)
       AND NOT EXISTS (
           SELECT 1 FROM json_each_text(headers) AS h
           WHERE h.key !~ '^[!#$%&''*+.^_`|~0-9A-Za-z-]{1,100}$'
              OR h.value ~ '[\x01-\x08\x0a-\x1f\x7f]' OR length(h.value) > 4000
              OR lower(h.key) IN ('host', 'user-agent', 'connection', 'transfer-encoding', 'expect', 'te',
                                  'upgrade', 'keep-alive', 'x-hook-test')
              OR lower(h.key) LIKE 'content-%' OR lower(h.key) LIKE 'x-superoffice-%' OR lower(h.key) LIKE 'webhook-%'
              OR lower(h.key) LIKE 'proxy-%');
END
$$;
