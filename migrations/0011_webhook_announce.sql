-- Saved webhooks are cached in webhookd too (src/hookcache.c): every change to the webhook table
-- is announced on webhookd_cache like the tables of 0004, naming the table, so that the daemons
-- drop their snapshot of the webhooks, and only that (src/changes.c maps tables to caches).
-- One notification per statement, on commit; a rolled-back change is never announced. Writers
-- of the table: the API's saves and deletes, an operator's SQL, the cascades from associate and
-- application, and the delivery daemons turning a hook TooManyErrors (rare by design).
CREATE TRIGGER webhook_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON webhook
    FOR EACH STATEMENT EXECUTE FUNCTION webhookd_announce_change();
