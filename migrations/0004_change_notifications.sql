-- Every change to what the daemon caches is announced on the channel webhookd_cache, naming the
-- table. NOTIFY is transactional: listeners hear of a change when it commits, never before, and
-- a rolled-back change is never announced. The daemon drops what it cached on each announcement.
CREATE FUNCTION webhookd_announce_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('webhookd_cache', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['associate', 'credential', 'browser_session', 'application', 'webhook_default',
                             'language', 'resource', 'culture', 'timezone'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION webhookd_announce_change()', t || '_announce', t);
    END LOOP;
END
$$;
