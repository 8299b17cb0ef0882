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
-- queue empty says so in webhook_delivery_waiter before it looks one last time and sleeps:
-- SignalEvent wakes the daemons only when one waits. A busy daemon claims again within a few
-- milliseconds by itself (deliver/engine.c).
--
-- Why no wake-up is lost. SignalEvent holds a shared advisory lock from before its INSERT until
-- its commit, and looks for a waiting daemon in a statement that starts after it took the lock. A
-- daemon says it waits in a transaction that takes that lock exclusively (or gives up, and looks
-- again soon), then looks once more after its commit. A signal whose lock came first has
-- committed before the daemon's last look, which sees it; one whose lock came after sees the
-- daemon's row, and wakes it.

CREATE TABLE webhook_signal (
    signal_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- What subscribers name in their Events; NULL: the event itself (a state change's topic is
    -- webhook{ID}.started while its event is webhook.started).
    topic        text,
    -- No CHECK here, unlike the queue: a check is a tenth of the cost of this INSERT, and both
    -- writers check first (webhookd's hookparse.c, webhook_signal_topic below). The fan-out holds
    -- each signal to the queue's rules, so that a row breaking them cannot stop it (an event name
    -- that breaks them matches no webhook anyway: Events follow the same rules).
    event        text NOT NULL,
    primary_key  integer NOT NULL,
    data         json,
    changed_by   integer NOT NULL DEFAULT 0,
    signalled_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The sessions of delivery daemons that found nothing to claim and wait for a NOTIFY.
CREATE TABLE webhook_delivery_waiter (
    pid integer PRIMARY KEY
);

-- SignalEvent: the event into the inbox, and a NOTIFY if a daemon waits. Not SECURITY DEFINER
-- (that, with its own search_path, cost a third of a signal): webhookd may insert signals.
CREATE FUNCTION webhook_signal_event(p_event text, p_primary_key integer, p_data json, p_changed_by integer)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtext('webhook_delivery_waiter'));
    INSERT INTO webhook_signal (event, primary_key, data, changed_by)
    VALUES (p_event, p_primary_key, p_data, p_changed_by);
    IF EXISTS (SELECT FROM webhook_delivery_waiter) THEN
        PERFORM pg_notify('webhookd_delivery', '');
    END IF;
END
$$;

-- A daemon's session waits (true) or is busy (false); false when it could not say it waits
-- because a signal is being made right now (then it looks again soon). Rows of sessions that are
-- gone (a daemon killed, a connection lost) are dropped on the way: until then they only cost a
-- NOTIFY.
CREATE FUNCTION webhook_delivery_wait(p_waiting boolean) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF p_waiting AND NOT pg_try_advisory_xact_lock(hashtext('webhook_delivery_waiter')) THEN
        RETURN false;
    END IF;
    DELETE FROM webhook_delivery_waiter w
    WHERE w.pid = pg_backend_pid() OR NOT EXISTS (SELECT FROM pg_stat_activity a WHERE a.pid = w.pid);
    IF p_waiting THEN
        INSERT INTO webhook_delivery_waiter (pid) VALUES (pg_backend_pid());
    END IF;
    RETURN true;
END
$$;

-- The queue's rules for a signal (webhook_delivery's CHECKs, 0006).
CREATE FUNCTION webhook_signal_valid(event text, data json) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT octet_length(event) BETWEEN 1 AND 200 AND event !~ '[\s,[:cntrl:]]'
       AND (data IS NULL OR json_typeof(data) = 'object')
$$;

-- The SQL form of a signal (webhook_signal(), the state-change events): into the inbox too, so
-- that every signal reaches the queue in the order it was made, with the checks the inbox leaves
-- to its writers. It wakes the daemons as before (0010: at its commit, or after it in webhookd).
-- Returns how many webhooks are subscribed now; the daemon's fan-out, a moment later, queues.
CREATE OR REPLACE FUNCTION webhook_signal_topic(topic text, event text, primary_key integer, data json,
    changed_by integer)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE subscribed integer;
BEGIN
    IF data IS NOT NULL AND json_typeof(data) <> 'object' THEN
        RAISE EXCEPTION 'webhook_signal: data must be a JSON object' USING ERRCODE = '22023';
    END IF;
    IF event IS NULL OR NOT webhook_signal_valid(event, NULL) THEN
        RAISE EXCEPTION 'webhook_signal: the event name must be 1 to 200 bytes without white space, control characters or commas'
            USING ERRCODE = '22023';
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
    moved   integer;
    queued  integer;
    invalid integer;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('webhook_signal_fan_out')) THEN
        RETURN -1;
    END IF;
    WITH s AS (
        DELETE FROM webhook_signal WHERE signal_id IN (
            SELECT signal_id FROM webhook_signal ORDER BY signal_id LIMIT p_limit)
        RETURNING *, webhook_signal_valid(event, data) AS valid),
    q AS (
        INSERT INTO webhook_delivery (webhook_id, event, primary_key, data, changed_by, signalled_at)
        SELECT w.webhook_id, s.event, s.primary_key, s.data, s.changed_by, s.signalled_at
        FROM s JOIN webhook w ON w.state = 1 AND w.events @> ARRAY[coalesce(s.topic, s.event)]
        WHERE s.valid
        ORDER BY s.signal_id, w.webhook_id
        RETURNING 1)
    SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM q), (SELECT count(*) FROM s WHERE NOT s.valid)
    INTO moved, queued, invalid;
    IF invalid > 0 THEN
        -- Only a writer that skipped the checks makes one; it could never be delivered.
        RAISE WARNING 'webhook_signal_fan_out: dropped % signals that break the queue''s rules', invalid;
    END IF;
    IF queued > 0 AND EXISTS (SELECT FROM webhook_delivery_waiter WHERE pid <> pg_backend_pid()) THEN
        PERFORM pg_notify('webhookd_delivery', '');
    END IF;
    RETURN moved;
END
$$;

-- A signal waiting in the inbox is due at once; otherwise the queue decides (0009).
ALTER FUNCTION webhook_delivery_next_due() RENAME TO webhook_delivery_next_due_queued;
CREATE FUNCTION webhook_delivery_next_due() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT CASE WHEN EXISTS (SELECT FROM webhook_signal) THEN 0 ELSE webhook_delivery_next_due_queued() END
$$;
