-- The delivery log (issue 12): every event a webhook was sent, with its attempts, readable through
-- the API; resend and recover; retention.
--
-- An event lives in exactly one of two tables: the queue (webhook_delivery, migration 0006) while
-- it is pending, and webhook_message once it is finished (delivered or given up). Both carry the
-- same delivery_id, so a listing over both (webhook_event_log) never shows an event twice, and
-- keyset paging on delivery_id holds while new events arrive. Moving between the two happens in
-- the transaction that records the last attempt, or in resend/recover.

-- What the listing shows of an event's attempts, kept on the event itself: one UPDATE of the
-- queue row that the recorder makes anyway, instead of an index on webhook_attempt (delivery_id)
-- that every attempt would pay for.
ALTER TABLE webhook_delivery
    ADD COLUMN attempts        integer NOT NULL DEFAULT 0,  -- over every cycle
    ADD COLUMN last_status     integer,
    ADD COLUMN last_error      text,
    ADD COLUMN last_attempt_at timestamptz;

CREATE TABLE webhook_message (
    delivery_id     bigint PRIMARY KEY,  -- the queue row's id, kept through resends
    webhook_id      integer NOT NULL REFERENCES webhook ON DELETE CASCADE,
    event           text NOT NULL,
    primary_key     integer NOT NULL,
    data            json,
    changed_by      integer NOT NULL,
    signalled_at    timestamptz NOT NULL,
    event_id        uuid NOT NULL,       -- the EventId of its last cycle
    cycle           integer NOT NULL,
    attempts        integer NOT NULL,
    last_status     integer,
    last_error      text,
    last_attempt_at timestamptz,
    delivered       boolean NOT NULL,    -- false: given up
    finished_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- A webhook's events newest first (the listing, the cap on rows per webhook).
CREATE INDEX webhook_message_webhook ON webhook_message (webhook_id, delivery_id);
-- Retention by age, and the Activity of every webhook in the last 24 hours.
CREATE INDEX webhook_message_finished ON webhook_message (finished_at);
CREATE INDEX webhook_attempt_attempted ON webhook_attempt (attempted_at);

-- Every event of every webhook, pending or finished, in one shape.
CREATE VIEW webhook_event_log AS
    SELECT delivery_id, webhook_id, event_id, event, primary_key, data, signalled_at, 'Pending'::text AS outcome,
           cycle, attempts, last_status, last_error, last_attempt_at, due_at AS next_attempt_at
    FROM webhook_delivery
    UNION ALL
    SELECT delivery_id, webhook_id, event_id, event, primary_key, data, signalled_at,
           CASE WHEN delivered THEN 'Delivered' ELSE 'Failed' END, cycle, attempts, last_status, last_error,
           last_attempt_at, NULL
    FROM webhook_message;

-- As in 0006, and: the event's summary follows every attempt, and a finished delivery moves into
-- webhook_message in the same transaction (one INSERT more per finished delivery).
CREATE OR REPLACE FUNCTION webhook_delivery_record(p_webhook integer, p_delivery bigint, p_leased_by text,
    p_status integer, p_error text,
    p_latency_ms integer, p_response text, p_failed boolean, p_gone boolean, p_action integer, p_delay_ms integer,
    p_max_consecutive integer)
RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    d webhook_delivery;
    consecutive integer;
    at timestamptz;
BEGIN
    PERFORM FROM webhook WHERE webhook_id = p_webhook FOR NO KEY UPDATE;
    SELECT * INTO d FROM webhook_delivery WHERE delivery_id = p_delivery FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;  -- the webhook was deleted meanwhile
    END IF;
    INSERT INTO webhook_attempt (webhook_id, delivery_id, event_id, event, primary_key, cycle, attempt, status,
                                 error, latency_ms, response)
    VALUES (d.webhook_id, d.delivery_id, d.event_id, d.event, d.primary_key, d.cycle, d.attempt + 1, p_status,
            p_error, p_latency_ms, left(p_response, 4000))
    RETURNING attempted_at INTO at;
    INSERT INTO webhook_usage AS u (webhook_id, total_calls, total_errors, consecutive_errors, last_error, last_error_at)
    VALUES (d.webhook_id, 1, p_failed::int, p_failed::int, CASE WHEN p_failed THEN left(p_response, 4000) END,
            CASE WHEN p_failed THEN clock_timestamp() END)
    ON CONFLICT (webhook_id) DO UPDATE SET
        total_calls = u.total_calls + 1,
        total_errors = u.total_errors + p_failed::int,
        consecutive_errors = CASE WHEN p_failed THEN u.consecutive_errors + 1 ELSE 0 END,
        last_error = CASE WHEN p_failed THEN left(p_response, 4000) ELSE u.last_error END,
        last_error_at = CASE WHEN p_failed THEN clock_timestamp() ELSE u.last_error_at END
    RETURNING u.consecutive_errors INTO consecutive;
    IF p_gone OR consecutive >= p_max_consecutive THEN
        UPDATE webhook SET state = 3 WHERE webhook_id = d.webhook_id AND state = 1;
    END IF;
    IF d.leased_by IS DISTINCT FROM p_leased_by THEN
        -- The lease ran out and another daemon has the delivery now: only the summary is ours.
        UPDATE webhook_delivery SET attempts = attempts + 1, last_status = p_status, last_error = p_error,
            last_attempt_at = at
        WHERE delivery_id = p_delivery;
        RETURN;
    END IF;
    IF p_action IN (0, 3) THEN
        INSERT INTO webhook_message (delivery_id, webhook_id, event, primary_key, data, changed_by, signalled_at,
                                     event_id, cycle, attempts, last_status, last_error, last_attempt_at, delivered)
        VALUES (d.delivery_id, d.webhook_id, d.event, d.primary_key, d.data, d.changed_by, d.signalled_at,
                d.event_id, d.cycle, d.attempts + 1, p_status, p_error, at, p_action = 0);
        DELETE FROM webhook_delivery WHERE delivery_id = p_delivery;
    ELSIF p_action = 1 THEN
        UPDATE webhook_delivery SET attempt = attempt + 1, leased_until = NULL, leased_by = NULL,
            due_at = clock_timestamp() + make_interval(secs => p_delay_ms / 1000.0),
            attempts = attempts + 1, last_status = p_status, last_error = p_error, last_attempt_at = at
        WHERE delivery_id = p_delivery;
    ELSE
        UPDATE webhook_delivery SET cycle = cycle + 1, attempt = 0, event_id = gen_random_uuid(),
            leased_until = NULL, leased_by = NULL,
            due_at = clock_timestamp() + make_interval(secs => p_delay_ms / 1000.0),
            attempts = attempts + 1, last_status = p_status, last_error = p_error, last_attempt_at = at
        WHERE delivery_id = p_delivery;
    END IF;
END
$$;

-- A finished event back into the queue: a new cycle with the same EventId, due now. The caller
-- holds the webhook's row and the message's (see webhook_delivery_resend).
CREATE FUNCTION webhook_message_requeue(m webhook_message) RETURNS void
LANGUAGE sql SET search_path = public, pg_temp AS $$
    INSERT INTO webhook_delivery (delivery_id, webhook_id, event, primary_key, data, changed_by, signalled_at,
                                  event_id, cycle, attempt, due_at, attempts, last_status, last_error,
                                  last_attempt_at)
    OVERRIDING SYSTEM VALUE
    VALUES (m.delivery_id, m.webhook_id, m.event, m.primary_key, m.data, m.changed_by, m.signalled_at, m.event_id,
            m.cycle + 1, 0, clock_timestamp(), m.attempts, m.last_status, m.last_error, m.last_attempt_at);
    DELETE FROM webhook_message WHERE delivery_id = m.delivery_id;
$$;

-- Resend one event of an Active webhook: a finished one goes back into the queue, a pending one
-- that is not in flight becomes due now. result says which ('resent', 'due') or why not
-- ('unknown' event, 'inactive' webhook, 'in_flight'); ev is the event as the log now shows it.
-- Locks the webhook first, as the recorder does, so neither deadlocks with the other or with a
-- DELETE of the webhook.
CREATE FUNCTION webhook_delivery_resend(p_webhook integer, p_delivery bigint,
    OUT result text, OUT ev webhook_event_log)
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    v_state smallint;
    v_leased_until timestamptz;
    m webhook_message;
BEGIN
    result := 'unknown';
    SELECT w.state INTO v_state FROM webhook w WHERE w.webhook_id = p_webhook FOR SHARE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT d.leased_until INTO v_leased_until FROM webhook_delivery d
    WHERE d.delivery_id = p_delivery AND d.webhook_id = p_webhook FOR UPDATE;
    IF FOUND THEN
        IF v_state <> 1 THEN
            result := 'inactive';
        ELSIF v_leased_until > clock_timestamp() THEN
            result := 'in_flight';
        ELSE
            UPDATE webhook_delivery d SET due_at = clock_timestamp() WHERE d.delivery_id = p_delivery;
            result := 'due';
        END IF;
    ELSE
        SELECT * INTO m FROM webhook_message wm
        WHERE wm.delivery_id = p_delivery AND wm.webhook_id = p_webhook FOR UPDATE;
        IF NOT FOUND THEN
            RETURN;
        ELSIF v_state <> 1 THEN
            result := 'inactive';
        ELSE
            PERFORM webhook_message_requeue(m);
            result := 'resent';
        END IF;
    END IF;
    IF result IN ('due', 'resent') THEN
        PERFORM pg_notify('webhookd_delivery', '');
        SELECT * INTO ev FROM webhook_event_log v WHERE v.delivery_id = p_delivery;
    END IF;
END
$$;

-- Recover: the failed events of an Active webhook signalled since p_since go back into the queue
-- as with resend, oldest first, at most p_max of them. Returns how many, and how many are left
-- for another call; result 'inactive' (and nothing moved) when the webhook is not Active, NULL
-- when it does not exist.
CREATE FUNCTION webhook_delivery_recover(p_webhook integer, p_since timestamptz, p_max integer,
    OUT result text, OUT recovered integer, OUT remaining bigint)
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    v_state smallint;
    m webhook_message;
BEGIN
    recovered := 0;
    remaining := 0;
    SELECT w.state INTO v_state FROM webhook w WHERE w.webhook_id = p_webhook FOR SHARE;
    IF NOT FOUND THEN
        RETURN;
    ELSIF v_state <> 1 THEN
        result := 'inactive';
        RETURN;
    END IF;
    FOR m IN SELECT * FROM webhook_message wm
             WHERE wm.webhook_id = p_webhook AND NOT wm.delivered AND wm.signalled_at >= p_since
             ORDER BY wm.delivery_id LIMIT p_max FOR UPDATE LOOP
        PERFORM webhook_message_requeue(m);
        recovered := recovered + 1;
    END LOOP;
    SELECT count(*) INTO remaining FROM webhook_message wm
    WHERE wm.webhook_id = p_webhook AND NOT wm.delivered AND wm.signalled_at >= p_since;
    IF recovered > 0 THEN
        PERFORM pg_notify('webhookd_delivery', '');
    END IF;
    result := 'recovered';
END
$$;

-- Retention, run by webhook-deliverd in small batches, each its own short transaction. The
-- advisory lock (held to the end of the batch) keeps a second daemon out: it finds the lock
-- taken, gets -1 and leaves the pass to the first. Rows go oldest first, so a pass cut short
-- leaves the log as it would be after a shorter one.
CREATE FUNCTION webhook_log_prune_age(p_keep_days integer, p_batch integer) RETURNS integer
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    v_cutoff timestamptz := clock_timestamp() - make_interval(days => p_keep_days);
    v_messages integer;
    v_attempts integer;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('webhook-deliverd prune')) THEN
        RETURN -1;
    END IF;
    DELETE FROM webhook_message WHERE delivery_id IN (
        SELECT delivery_id FROM webhook_message WHERE finished_at < v_cutoff ORDER BY finished_at LIMIT p_batch);
    GET DIAGNOSTICS v_messages = ROW_COUNT;
    DELETE FROM webhook_attempt WHERE attempt_id IN (
        SELECT attempt_id FROM webhook_attempt WHERE attempted_at < v_cutoff ORDER BY attempted_at
        LIMIT p_batch - v_messages);
    GET DIAGNOSTICS v_attempts = ROW_COUNT;
    RETURN v_messages + v_attempts;
END
$$;

-- The cap on rows per webhook, for the first webhook from p_from on: up to p_batch of its
-- finished events and attempts beyond the newest p_max_rows of each. o_webhook is the webhook
-- it looked at (NULL: none left), o_deleted -1 when another daemon prunes.
CREATE FUNCTION webhook_log_prune_rows(p_from integer, p_max_rows integer, p_batch integer,
    OUT o_webhook integer, OUT o_deleted integer)
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    v_bound bigint;
    v_attempts integer;
BEGIN
    o_deleted := 0;
    IF NOT pg_try_advisory_xact_lock(hashtext('webhook-deliverd prune')) THEN
        o_deleted := -1;
        RETURN;
    END IF;
    SELECT min(w.webhook_id) INTO o_webhook FROM webhook w WHERE w.webhook_id >= p_from;
    IF o_webhook IS NULL THEN
        RETURN;
    END IF;
    SELECT wm.delivery_id INTO v_bound FROM webhook_message wm WHERE wm.webhook_id = o_webhook
    ORDER BY wm.delivery_id DESC OFFSET p_max_rows LIMIT 1;
    IF v_bound IS NOT NULL THEN
        DELETE FROM webhook_message WHERE delivery_id IN (
            SELECT wm.delivery_id FROM webhook_message wm WHERE wm.webhook_id = o_webhook AND wm.delivery_id <= v_bound
            ORDER BY wm.delivery_id LIMIT p_batch);
        GET DIAGNOSTICS o_deleted = ROW_COUNT;
    END IF;
    SELECT a.attempt_id INTO v_bound FROM webhook_attempt a WHERE a.webhook_id = o_webhook
    ORDER BY a.attempt_id DESC OFFSET p_max_rows LIMIT 1;
    IF v_bound IS NOT NULL AND o_deleted < p_batch THEN
        DELETE FROM webhook_attempt WHERE attempt_id IN (
            SELECT a.attempt_id FROM webhook_attempt a WHERE a.webhook_id = o_webhook AND a.attempt_id <= v_bound
            ORDER BY a.attempt_id LIMIT p_batch - o_deleted);
        GET DIAGNOSTICS v_attempts = ROW_COUNT;
        o_deleted := o_deleted + v_attempts;
    END IF;
END
$$;
