-- SignalEvent at the cost of one INSERT (issue 13).
--
-- Measured with pgbench on two cores (8 clients, README "Performance"): a one-row INSERT into a
-- table with only a primary key commits about 15,500 times a second; SignalEvent as it was,
-- webhook_signal_topic() queueing one delivery per subscriber and then announcing it after the
-- commit, about 4,500. Two costs made the difference, and this migration takes both off the
-- request's path:
--   * the fan-out itself: looking the subscribers up and inserting into the queue, whose four
--     indexes serve the claim, pacing, Ordered and the cascade (about 10,300 one-row INSERTs a
--     second into it), through a SECURITY DEFINER function with its own search_path;
--   * the wake-up: a transaction that NOTIFYs, even one that does not wait for its flush, for
--     every event, although a daemon that is busy claims again by itself.
--
-- A signal is now one row in webhook_signal (the inbox). The delivery daemons fan it out: one
-- daemon at a time moves the oldest signals into the queue, one delivery per Active webhook
-- subscribed to the topic at that moment (milliseconds later), in signal order, so that Ordered
-- webhooks see their events in the order they were signalled. And a daemon that has found the
-- queue empty says so in webhook_delivery_waiter before it looks one last time and sleeps: a
-- signal wakes the daemons only when one waits. A busy daemon claims again within a few
-- milliseconds by itself (deliver/engine.c).
--
-- Why no wake-up is lost: the daemon commits its row, then claims once more; a signaller
-- commits its event, then (after that commit) looks for a waiting daemon. Either the event was
-- committed before the daemon's last look, which sees it, or the daemon's row was committed
-- before the signaller looked, which sees it and wakes the daemon.

CREATE TABLE webhook_signal (
    signal_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- What subscribers name in their Events; NULL: the event itself (a state change's topic is
    -- webhook{ID}.started while its event is webhook.started).
    topic        text,
    -- The queue's rules, so that a fan-out can never fail on a row the inbox took.
    event        text NOT NULL CHECK (octet_length(event) BETWEEN 1 AND 200 AND event !~ '[\s,[:cntrl:]]'),
    primary_key  integer NOT NULL,
    data         json CHECK (json_typeof(data) = 'object'),
    changed_by   integer NOT NULL DEFAULT 0,
    signalled_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The sessions of delivery daemons that found nothing to claim and wait for a NOTIFY.
CREATE TABLE webhook_delivery_waiter (
    pid integer PRIMARY KEY
);

-- A daemon's session waits (true) or is busy (false). Rows of sessions that are gone (a daemon
-- killed, a connection lost) are dropped on the way: until then they only cost a NOTIFY.
CREATE FUNCTION webhook_delivery_wait(p_waiting boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    DELETE FROM webhook_delivery_waiter w
    WHERE w.pid = pg_backend_pid() OR NOT EXISTS (SELECT FROM pg_stat_activity a WHERE a.pid = w.pid);
    IF p_waiting THEN
        INSERT INTO webhook_delivery_waiter (pid) VALUES (pg_backend_pid());
    END IF;
END
$$;

-- Wakes the delivery daemons if one waits. Called after the commit of what it announces.
CREATE FUNCTION webhook_delivery_wake() RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM webhook_delivery_waiter) THEN
        RETURN false;
    END IF;
    -- A notification lives in memory only, and what it announces is durable already.
    PERFORM set_config('synchronous_commit', 'off', true);
    PERFORM pg_notify('webhookd_delivery', '');
    RETURN true;
END
$$;

-- What webhookd pipelines behind each of its writes (0010), now also told whether the write may
-- have given the delivery daemons work (SignalEvent). A wake-up of the daemons, asked for here or
-- left pending by a trigger (a webhook started again), goes out only when one waits.
CREATE FUNCTION webhookd_notify_pending(wake_deliverers boolean) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    pending jsonb := coalesce(nullif(current_setting('webhookd.pending', true), ''), '[]')::jsonb;
    item jsonb;
    sent integer := 0;
BEGIN
    IF jsonb_array_length(pending) = 0 AND NOT wake_deliverers THEN
        RETURN 0;
    END IF;
    PERFORM set_config('webhookd.pending', '', false);
    FOR item IN SELECT value FROM jsonb_array_elements(pending) LOOP
        IF item->>0 = 'webhookd_delivery' THEN
            wake_deliverers := true;
        ELSE
            PERFORM set_config('synchronous_commit', 'off', true);
            PERFORM pg_notify(item->>0, item->>1);
            sent := sent + 1;
        END IF;
    END LOOP;
    IF wake_deliverers AND webhook_delivery_wake() THEN
        sent := sent + 1;
    END IF;
    RETURN sent;
END
$$;

-- Kept for webhookd of the previous version during an upgrade.
CREATE OR REPLACE FUNCTION webhookd_notify_pending() RETURNS integer
LANGUAGE sql AS $$ SELECT webhookd_notify_pending(false) $$;

-- The SQL form of a signal (webhook_signal(), the state-change events): into the inbox too, so
-- that every signal reaches the queue in the order it was made. Returns how many webhooks are
-- subscribed now; the daemon's fan-out, a moment later, is what queues.
CREATE OR REPLACE FUNCTION webhook_signal_topic(topic text, event text, primary_key integer, data json,
    changed_by integer)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE subscribed integer;
BEGIN
    IF data IS NOT NULL AND json_typeof(data) <> 'object' THEN
        RAISE EXCEPTION 'webhook_signal: data must be a JSON object' USING ERRCODE = '22023';
    END IF;
    SELECT count(*) INTO subscribed FROM webhook w WHERE w.state = 1 AND w.events @> ARRAY[topic];
    IF subscribed > 0 THEN
        INSERT INTO webhook_signal (topic, event, primary_key, data, changed_by)
        VALUES (nullif(topic, event), event, primary_key, data, coalesce(changed_by, 0));
        PERFORM webhookd_notify('webhookd_delivery', '');
    END IF;
    RETURN subscribed;
END
$$;

-- Moves up to p_limit of the oldest signals into the queue, one delivery per Active webhook
-- subscribed to each, in signal order (delivery ids follow it). One daemon at a time: another
-- that finds the lock taken leaves it (-1), the one holding it is at it. Other daemons that
-- wait are woken when deliveries were queued. Returns how many signals were moved.
CREATE FUNCTION webhook_signal_fan_out(p_limit integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    moved  integer;
    queued integer;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('webhook_signal_fan_out')) THEN
        RETURN -1;
    END IF;
    WITH s AS (
        DELETE FROM webhook_signal WHERE signal_id IN (
            SELECT signal_id FROM webhook_signal ORDER BY signal_id LIMIT p_limit)
        RETURNING *),
    q AS (
        INSERT INTO webhook_delivery (webhook_id, event, primary_key, data, changed_by, signalled_at)
        SELECT w.webhook_id, s.event, s.primary_key, s.data, s.changed_by, s.signalled_at
        FROM s JOIN webhook w ON w.state = 1 AND w.events @> ARRAY[coalesce(s.topic, s.event)]
        ORDER BY s.signal_id, w.webhook_id
        RETURNING 1)
    SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM q) INTO moved, queued;
    IF queued > 0 AND EXISTS (SELECT FROM webhook_delivery_waiter WHERE pid <> pg_backend_pid()) THEN
        PERFORM pg_notify('webhookd_delivery', '');
    END IF;
    RETURN moved;
END
$$;

-- A signal waiting in the inbox is due at once.
CREATE OR REPLACE FUNCTION webhook_delivery_next_due() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH full_hooks AS (
        SELECT coalesce(array_agg(w.webhook_id), '{}') AS ids FROM webhook w
        JOIN webhook_delivery_state s ON s.webhook_id = w.webhook_id
        WHERE w.max_in_flight IS NOT NULL AND w.state = 1
          AND (SELECT count(*) FROM webhook_delivery l
               WHERE l.delivery_id = ANY (s.leased) AND l.leased_until > clock_timestamp()) >= w.max_in_flight)
    SELECT CASE WHEN EXISTS (SELECT FROM webhook_signal) THEN 0 ELSE (
        SELECT (extract(epoch FROM min(greatest(d.due_at, coalesce(d.leased_until, d.due_at))) - clock_timestamp())
                * 1000)::bigint
        FROM webhook_delivery d JOIN webhook w ON w.webhook_id = d.webhook_id, full_hooks f
        WHERE w.state = 1 AND (d.leased_until IS NOT NULL OR d.webhook_id <> ALL (f.ids))
          AND (NOT w.ordered OR webhook_delivery_in_turn(d.webhook_id, d.primary_key, d.delivery_id))) END
$$;
