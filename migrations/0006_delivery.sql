-- Delivery: SignalEvent and webhook_signal() put one delivery per subscribed Active webhook into
-- a queue in this database; delivery daemons claim due deliveries (FOR UPDATE SKIP LOCKED, under
-- a lease), post them, and record each attempt. A finished delivery leaves the queue, so the
-- queue stays as small as the backlog; the attempts stay in webhook_attempt.

CREATE TABLE webhook_delivery (
    delivery_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id   integer NOT NULL REFERENCES webhook ON DELETE CASCADE,
    -- The event as the receiver sees it. A copy per webhook: the queue row is all a daemon needs.
    event        text NOT NULL CHECK (octet_length(event) BETWEEN 1 AND 200 AND event !~ '[\s,[:cntrl:]]'),
    primary_key  integer NOT NULL,
    data         json CHECK (json_typeof(data) = 'object'),
    changed_by   integer NOT NULL DEFAULT 0,
    signalled_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- X-SuperOffice-EventId and webhook-id: the same for every attempt of one cycle; a new
    -- cycle (after the cycle's last attempt failed) gets a new one, as NetServer does.
    event_id     uuid NOT NULL DEFAULT gen_random_uuid(),
    cycle        integer NOT NULL DEFAULT 1 CHECK (cycle >= 1),
    attempt      integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),  -- attempts made in this cycle
    due_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- A daemon holds what it claimed until leased_until; a daemon that dies loses its leases.
    leased_until timestamptz,
    leased_by    text
);
CREATE INDEX webhook_delivery_due ON webhook_delivery (due_at);
CREATE INDEX webhook_delivery_webhook ON webhook_delivery (webhook_id);

-- Every attempt, as it went (the delivery log).
CREATE TABLE webhook_attempt (
    attempt_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id   integer NOT NULL REFERENCES webhook ON DELETE CASCADE,
    delivery_id  bigint NOT NULL,  -- no reference: the delivery leaves the queue when it is done
    event_id     uuid NOT NULL,
    event        text NOT NULL,
    primary_key  integer NOT NULL,
    cycle        integer NOT NULL,
    attempt      integer NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    status       integer,           -- the HTTP status; NULL when there was no answer
    error        text,              -- why there was no answer
    latency_ms   integer NOT NULL,
    response     text CHECK (length(response) <= 4000)  -- status line, headers and body, capped
);
CREATE INDEX webhook_attempt_webhook ON webhook_attempt (webhook_id, attempt_id);

-- Queues event for every Active webhook whose Events hold topic; returns how many. Security
-- definer, so an application's own triggers may signal without rights on the queue. Delivery
-- daemons hear of it on commit (NOTIFY is transactional): rolled back, nothing is sent.
-- data is json, not jsonb: it reaches the receiver as given (member order, numbers as written).
CREATE FUNCTION webhook_signal_topic(topic text, event text, primary_key integer, data json, changed_by integer)
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
        PERFORM pg_notify('webhookd_delivery', '');
    END IF;
    RETURN queued;
END
$$;

-- The public form: webhook_signal('contact.created', 42, '{"name": "Acme"}').
CREATE FUNCTION webhook_signal(event text, primary_key integer, data jsonb DEFAULT NULL, changed_by integer DEFAULT 0)
RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT webhook_signal_topic(event, event, primary_key, data::json, changed_by)
$$;

-- A webhook's state change raises the documented events: subscribe to webhook{ID}.started,
-- .stopped or .errors; the payload's Event is webhook.started etc. and its PrimaryKey the id.
-- A hook that becomes Active again also wakes the daemons: its paused deliveries are due.
CREATE FUNCTION webhook_state_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE verb text := CASE NEW.state WHEN 1 THEN 'started' WHEN 2 THEN 'stopped' WHEN 3 THEN 'errors' END;
BEGIN
    IF verb IS NOT NULL THEN
        PERFORM webhook_signal_topic('webhook' || NEW.webhook_id || '.' || verb, 'webhook.' || verb, NEW.webhook_id,
            json_build_object('events', NEW.events, 'registered', NEW.registered,
                              'registered_associate_id', NEW.registered_associate_id, 'state', NEW.state,
                              'updated', NEW.updated, 'updated_associate_id', NEW.updated_associate_id),
            coalesce(NEW.updated_associate_id, 0));
    END IF;
    -- Started again: its count of failures in a row starts over (else one more failure would
    -- turn it off at once), and the daemons are woken for what waited.
    IF NEW.state = 1 THEN
        UPDATE webhook_usage SET consecutive_errors = 0 WHERE webhook_id = NEW.webhook_id;
        PERFORM pg_notify('webhookd_delivery', '');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER webhook_state_event AFTER UPDATE OF state ON webhook
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION webhook_state_changed();

-- What a daemon records after an attempt, in one round trip: the attempt, the webhook's
-- counters, its state (TooManyErrors after max_consecutive failed attempts in a row, or at once
-- when gone), and what becomes of the delivery: action 0 done, 1 retry in this cycle, 2 a new
-- cycle with a new EventId, 3 given up. Only the daemon holding the lease moves the delivery.
-- Locks are taken in the order a DELETE of the webhook takes them (the webhook, then what
-- cascades from it), so recording while the webhook is deleted waits instead of deadlocking.
CREATE FUNCTION webhook_delivery_record(p_webhook integer, p_delivery bigint, p_leased_by text, p_status integer,
    p_error text,
    p_latency_ms integer, p_response text, p_failed boolean, p_gone boolean, p_action integer, p_delay_ms integer,
    p_max_consecutive integer)
RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    d webhook_delivery;
    consecutive integer;
BEGIN
    PERFORM FROM webhook WHERE webhook_id = p_webhook FOR NO KEY UPDATE;
    SELECT * INTO d FROM webhook_delivery WHERE delivery_id = p_delivery FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;  -- the webhook was deleted meanwhile
    END IF;
    INSERT INTO webhook_attempt (webhook_id, delivery_id, event_id, event, primary_key, cycle, attempt, status,
                                 error, latency_ms, response)
    VALUES (d.webhook_id, d.delivery_id, d.event_id, d.event, d.primary_key, d.cycle, d.attempt + 1, p_status,
            p_error, p_latency_ms, left(p_response, 4000));
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
        RETURN;  -- the lease ran out and another daemon has the delivery now
    END IF;
    IF p_action IN (0, 3) THEN
        DELETE FROM webhook_delivery WHERE delivery_id = p_delivery;
    ELSIF p_action = 1 THEN
        UPDATE webhook_delivery SET attempt = attempt + 1, leased_until = NULL, leased_by = NULL,
            due_at = clock_timestamp() + make_interval(secs => p_delay_ms / 1000.0)
        WHERE delivery_id = p_delivery;
    ELSE
        UPDATE webhook_delivery SET cycle = cycle + 1, attempt = 0, event_id = gen_random_uuid(),
            leased_until = NULL, leased_by = NULL,
            due_at = clock_timestamp() + make_interval(secs => p_delay_ms / 1000.0)
        WHERE delivery_id = p_delivery;
    END IF;
END
$$;
