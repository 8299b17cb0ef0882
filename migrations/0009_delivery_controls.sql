-- Delivery controls: secret rotation with a grace period, and per-webhook RateLimit, MaxInFlight,
-- Ordered and Probe (README, "Delivery controls"). The claim moves into webhook_delivery_claim(),
-- one round trip as before; hooks without controls take the same single statement they took.

-- The previous Secret, kept for secret_rotation_grace_s after a change (webhook_update in
-- src/db.c sets it); deliveries are signed with both while it lasts. Never returned by the API.
-- The controls: null or false is the installation's default behaviour.
ALTER TABLE webhook
    ADD COLUMN previous_secret       text CHECK (length(previous_secret) <= 400),
    ADD COLUMN previous_secret_until timestamptz,
    ADD COLUMN rate_limit            integer CHECK (rate_limit BETWEEN 1 AND 10000),    -- deliveries per second
    ADD COLUMN max_in_flight         integer CHECK (max_in_flight BETWEEN 1 AND 1000),  -- over all daemons
    ADD COLUMN ordered               boolean NOT NULL DEFAULT false,  -- one at a time per PrimaryKey
    ADD COLUMN probe                 boolean NOT NULL DEFAULT false;  -- re-activate when the target answers
-- The claim looks at the hooks it must pace one by one: this finds them without a scan.
CREATE INDEX webhook_paced ON webhook (webhook_id) WHERE rate_limit IS NOT NULL OR max_in_flight IS NOT NULL;

-- The daemons' shared bookkeeping of a controlled webhook; its row lock serializes the claims of
-- that webhook over all daemons. Created on first use, so an operator's UPDATE of the controls
-- needs nothing else.
CREATE TABLE webhook_delivery_state (
    webhook_id   integer PRIMARY KEY REFERENCES webhook ON DELETE CASCADE,
    -- RateLimit (GCRA): the theoretical arrival time of the next claim, and the last slot handed
    -- to a delivery that had to wait (its due_at), so that waiting deliveries never share a slot.
    tat          timestamptz,
    slot_end     timestamptz,
    -- MaxInFlight: the deliveries this webhook's claims leased; those still leased are in flight.
    -- Bounded by max_in_flight, so counting them never reads the webhook's backlog.
    leased       bigint[] NOT NULL DEFAULT '{}',
    -- Probe: no daemon probes the webhook again before this.
    probe_due_at timestamptz
);

-- The queue by webhook: the paced claim reads a webhook's due deliveries in due order, and
-- Ordered asks whether an older delivery of the same PrimaryKey waits. These two replace the
-- plain index on webhook_id (both lead with it, so the cascade from webhook still uses one).
DROP INDEX IF EXISTS webhook_delivery_webhook;
CREATE INDEX webhook_delivery_webhook_due ON webhook_delivery (webhook_id, due_at);
CREATE INDEX webhook_delivery_webhook_key ON webhook_delivery (webhook_id, primary_key, delivery_id);

-- The previous secret while its grace lasts, else NULL: the one rule for every reader.
CREATE FUNCTION webhook_previous_secret(p_secret text, p_until timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_until > clock_timestamp() THEN p_secret END
$$;

-- Ordered: may delivery p_delivery go now, as far as its PrimaryKey goes? Only when no older one
-- of the same webhook and PrimaryKey is in the queue (due, leased or waiting for a retry). A
-- single SELECT, so the planner inlines it (one probe of webhook_delivery_webhook_key).
CREATE FUNCTION webhook_delivery_in_turn(p_webhook integer, p_key integer, p_delivery bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT NOT EXISTS (SELECT FROM webhook_delivery o
                       WHERE o.webhook_id = p_webhook AND o.primary_key = p_key AND o.delivery_id < p_delivery)
$$;

-- What a claim returns per delivery: the event, its webhook, the previous secret while its grace
-- lasts, and the cap of deliveries in flight the daemon keeps for that webhook.
CREATE TYPE webhook_delivery_claimed AS (
    delivery_id bigint, webhook_id integer, event_id text, cycle integer, attempt integer, event text,
    primary_key integer, data text, changed_by integer, signalled_us bigint, name text, target_url text,
    secret text, headers text, properties text, previous_secret text, cap integer);

-- The deliveries of one paced webhook (RateLimit or MaxInFlight) that may go now, at most
-- p_room, locked for the caller's claim; called with the webhook's state row locked, so no other
-- daemon claims for it meanwhile and the counts below are true for all daemons.
--   MaxInFlight: those of its earlier claims still leased are in flight; the room is the rest.
--   RateLimit: a GCRA with a burst of a twentieth of a second's worth (at least one), which
--   forgives a claim up to 25 ms late for its time (in any second, at most one more). The due
--   deliveries beyond what may go now get a later due_at, a slot each, so the daemons sleep until
--   then instead of asking again; at most 1000 per claim, so a big backlog is spread over claims.
CREATE FUNCTION webhook_delivery_claim_paced(p_webhook integer, p_rate integer, p_max_in_flight integer,
    p_ordered boolean, p_room integer)
RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
    now_at        timestamptz := clock_timestamp();
    st         webhook_delivery_state;
    live       bigint[];
    ids        bigint[];
    room       integer := p_room;
    step       interval;
    tau        interval;
    base       timestamptz;
BEGIN
    SELECT * INTO STRICT st FROM webhook_delivery_state WHERE webhook_id = p_webhook;
    IF p_max_in_flight IS NOT NULL THEN
        live := ARRAY(SELECT l.delivery_id FROM webhook_delivery l
                      WHERE l.delivery_id = ANY (st.leased) AND l.leased_until > now_at);
        room := least(room, p_max_in_flight - cardinality(live));
    END IF;
    IF p_rate IS NOT NULL THEN
        step := make_interval(secs => 1.0 / p_rate);
        tau := step * (greatest(1, p_rate / 20) - 1);
        -- A claim a little late for its slot (the daemon's wake-up) keeps the schedule, or the
        -- slots handed out below would each be missed by that much; a later one starts afresh.
        base := CASE WHEN st.tat IS NULL OR st.tat < now_at - least(step, interval '25 ms') THEN now_at
                     ELSE st.tat END;
        room := least(room, CASE WHEN base - tau > now_at THEN 0
                                 ELSE floor(extract(epoch FROM now_at + tau - base) * p_rate)::integer + 1 END);
    END IF;
    SELECT coalesce(array_agg(delivery_id), '{}') INTO ids FROM (
        SELECT d.delivery_id FROM webhook_delivery d
        WHERE d.webhook_id = p_webhook AND d.due_at <= now_at
          AND (d.leased_until IS NULL OR d.leased_until < now_at)
          AND (NOT p_ordered OR webhook_delivery_in_turn(d.webhook_id, d.primary_key, d.delivery_id))
        ORDER BY d.due_at, d.delivery_id LIMIT greatest(room, 0) FOR UPDATE SKIP LOCKED) c;
    IF p_rate IS NOT NULL THEN
        st.tat := base + step * cardinality(ids);
        -- The first waiting delivery's slot: when the next claim would conform, after any slot
        -- already handed out.
        base := greatest(st.tat - tau, coalesce(st.slot_end + step, now_at), now_at);
        WITH waiting AS (
            SELECT d.delivery_id, d.due_at FROM webhook_delivery d
            WHERE d.webhook_id = p_webhook AND d.due_at <= now_at
              AND (d.leased_until IS NULL OR d.leased_until < now_at) AND d.delivery_id <> ALL (ids)
            ORDER BY d.due_at, d.delivery_id LIMIT 1000 FOR UPDATE SKIP LOCKED),
        slotted AS (
            SELECT delivery_id, base + step * (row_number() OVER (ORDER BY due_at, delivery_id) - 1) AS slot
            FROM waiting),
        moved AS (
            UPDATE webhook_delivery d SET due_at = s.slot FROM slotted s
            WHERE d.delivery_id = s.delivery_id AND s.slot > now_at RETURNING s.slot)
        SELECT coalesce(max(slot), st.slot_end) INTO st.slot_end FROM moved;
    END IF;
    UPDATE webhook_delivery_state SET tat = st.tat, slot_end = st.slot_end,
        leased = CASE WHEN p_max_in_flight IS NULL THEN '{}' ELSE live || ids END
    WHERE webhook_id = p_webhook;
    RETURN ids;
END
$$;

-- Leases up to p_limit due deliveries of Active webhooks to p_owner for p_lease_s seconds, oldest
-- first, skipping rows another daemon is claiming right now and the webhooks in p_exclude (at the
-- caller's own cap). Paced webhooks are claimed first, one at a time under their state row's lock
-- (in webhook_id order, so two daemons never wait on each other in a cycle); the others in one
-- statement, as before: at most p_per_webhook of one webhook's among the oldest p_limit * 4 due,
-- so one webhook's backlog cannot fill a claim that other webhooks' deliveries are waiting for.
-- Ordered webhooks' deliveries take their turn per PrimaryKey in both.
CREATE FUNCTION webhook_delivery_claim(p_limit integer, p_lease_s integer, p_exclude integer[], p_owner text,
    p_per_webhook integer)
RETURNS SETOF webhook_delivery_claimed
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    h      record;
    paced  bigint[] := '{}';
BEGIN
    FOR h IN SELECT w.webhook_id, w.rate_limit, w.max_in_flight, w.ordered FROM webhook w
             WHERE (w.rate_limit IS NOT NULL OR w.max_in_flight IS NOT NULL) AND w.state = 1
               AND w.webhook_id <> ALL (p_exclude)
               AND EXISTS (SELECT FROM webhook_delivery d WHERE d.webhook_id = w.webhook_id
                           AND d.due_at <= clock_timestamp()
                           AND (d.leased_until IS NULL OR d.leased_until < clock_timestamp()))
             ORDER BY w.webhook_id LOOP
        EXIT WHEN cardinality(paced) >= p_limit;
        INSERT INTO webhook_delivery_state (webhook_id) VALUES (h.webhook_id) ON CONFLICT DO NOTHING;
        PERFORM FROM webhook_delivery_state WHERE webhook_id = h.webhook_id FOR UPDATE;
        paced := paced || webhook_delivery_claim_paced(h.webhook_id, h.rate_limit, h.max_in_flight, h.ordered,
            least(p_limit - cardinality(paced), coalesce(h.max_in_flight, p_per_webhook)));
    END LOOP;
    RETURN QUERY
    WITH due AS (
        SELECT d.delivery_id, d.webhook_id, d.due_at FROM webhook_delivery d
        JOIN webhook w ON w.webhook_id = d.webhook_id
        WHERE d.due_at <= clock_timestamp() AND (d.leased_until IS NULL OR d.leased_until < clock_timestamp())
          AND w.state = 1 AND d.webhook_id <> ALL (p_exclude) AND w.rate_limit IS NULL AND w.max_in_flight IS NULL
          AND (NOT w.ordered OR webhook_delivery_in_turn(d.webhook_id, d.primary_key, d.delivery_id))
        ORDER BY d.due_at LIMIT p_limit * 4),
    ranked AS (
        SELECT delivery_id, row_number() OVER (PARTITION BY webhook_id ORDER BY due_at) AS rn FROM due),
    c AS (
        SELECT d.delivery_id FROM webhook_delivery d JOIN ranked r ON r.delivery_id = d.delivery_id
        WHERE r.rn <= p_per_webhook AND (d.leased_until IS NULL OR d.leased_until < clock_timestamp())
        ORDER BY d.due_at LIMIT p_limit - cardinality(paced) FOR UPDATE OF d SKIP LOCKED),
    claimed AS (
        SELECT delivery_id FROM c UNION ALL SELECT unnest(paced))
    UPDATE webhook_delivery d SET leased_until = clock_timestamp() + make_interval(secs => p_lease_s),
        leased_by = p_owner
    FROM claimed, webhook w
    WHERE d.delivery_id = claimed.delivery_id AND w.webhook_id = d.webhook_id
    RETURNING d.delivery_id, d.webhook_id, d.event_id::text, d.cycle, d.attempt + 1, d.event, d.primary_key,
        d.data::text, d.changed_by, (extract(epoch FROM d.signalled_at) * 1000000)::bigint,
        w.name, w.target_url, w.secret, w.headers::text, w.properties::text,
        webhook_previous_secret(w.previous_secret, w.previous_secret_until), coalesce(w.max_in_flight, p_per_webhook);
END
$$;

-- Milliseconds until a daemon has something to claim (negative when overdue), NULL when nothing
-- waits: the earliest due time or lease end of Active webhooks' deliveries, leaving out those
-- that cannot go before something else happens: an Ordered delivery behind an older one of its
-- PrimaryKey (that one's own time counts), and the due deliveries of a webhook at its MaxInFlight
-- (the ends of its leases count; the daemon holding them claims again as each finishes).
CREATE FUNCTION webhook_delivery_next_due() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH full_hooks AS (
        SELECT coalesce(array_agg(w.webhook_id), '{}') AS ids FROM webhook w
        JOIN webhook_delivery_state s ON s.webhook_id = w.webhook_id
        WHERE w.max_in_flight IS NOT NULL AND w.state = 1
          AND (SELECT count(*) FROM webhook_delivery l
               WHERE l.delivery_id = ANY (s.leased) AND l.leased_until > clock_timestamp()) >= w.max_in_flight)
    SELECT (extract(epoch FROM min(greatest(d.due_at, coalesce(d.leased_until, d.due_at))) - clock_timestamp())
            * 1000)::bigint
    FROM webhook_delivery d JOIN webhook w ON w.webhook_id = d.webhook_id, full_hooks f
    WHERE w.state = 1 AND (d.leased_until IS NOT NULL OR d.webhook_id <> ALL (f.ids))
      AND (NOT w.ordered OR webhook_delivery_in_turn(d.webhook_id, d.primary_key, d.delivery_id))
$$;

-- Probe: the TooManyErrors webhooks that ask for it and that no daemon probed within
-- p_interval_s, each handed to one daemon only (the row lock decides; the loser's UPDATE finds
-- the new probe_due_at), shaped as a claim of a `test` event (delivery_id 0: not in the queue).
CREATE FUNCTION webhook_probe_claim(p_interval_s integer) RETURNS SETOF webhook_delivery_claimed
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO webhook_delivery_state (webhook_id)
    SELECT webhook_id FROM webhook WHERE state = 3 AND probe ON CONFLICT DO NOTHING;
    UPDATE webhook_delivery_state s SET probe_due_at = clock_timestamp() + make_interval(secs => p_interval_s)
    FROM webhook w
    WHERE w.webhook_id = s.webhook_id AND w.state = 3 AND w.probe
      AND (s.probe_due_at IS NULL OR s.probe_due_at <= clock_timestamp())
    RETURNING 0::bigint, w.webhook_id, gen_random_uuid()::text, 1, 1, 'test'::text, 0, NULL::text, 0,
        (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, w.name, w.target_url, w.secret,
        w.headers::text, w.properties::text, webhook_previous_secret(w.previous_secret, w.previous_secret_until), 1;
$$;

-- After a change of a webhook's RateLimit or MaxInFlight: the pace starts afresh, the deliveries
-- that waited for a slot under the old RateLimit are due now (not those waiting for a retry), and
-- the daemons are told, so a raised limit applies at once. Returns how many became due.
CREATE FUNCTION webhook_delivery_repace(p_webhook integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    slotted_until timestamptz;
    moved integer;
BEGIN
    UPDATE webhook_delivery_state s SET tat = NULL, slot_end = NULL
    FROM webhook_delivery_state old
    WHERE s.webhook_id = p_webhook AND old.webhook_id = s.webhook_id
    RETURNING old.slot_end INTO slotted_until;
    UPDATE webhook_delivery SET due_at = clock_timestamp()
    WHERE webhook_id = p_webhook AND cycle = 1 AND attempt = 0
      AND due_at > clock_timestamp() AND due_at <= slotted_until;
    GET DIAGNOSTICS moved = ROW_COUNT;
    PERFORM pg_notify('webhookd_delivery', '');
    RETURN moved;
END
$$;
