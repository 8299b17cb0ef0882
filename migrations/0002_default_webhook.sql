-- The documented NetServer defaults of a new webhook: two sample events meant to be replaced,
-- Active, handled by the "webhook" plugin, everything else null.
INSERT INTO webhook_default (name, events, target_url, secret, state, type, headers, properties)
VALUES (NULL, ARRAY['contact.created', 'contact.deleted'], NULL, NULL, 1, 'webhook', NULL, NULL);
