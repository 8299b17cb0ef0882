-- Associates (users) and the defaults of a new webhook.
-- Applied by scripts/webhookd-migrate inside one transaction; never edit an applied migration.

-- Who may call the API. Only crypt(3) hashes of modern schemes are stored: yescrypt ($y$, $gy$,
-- $7$) or bcrypt ($2b$, $2y$); a clear-text password cannot satisfy the check.
CREATE TABLE associate (
    associate_id  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    full_name     text,
    password_hash text NOT NULL CHECK (password_hash ~ '^\$(y|gy|7|2b|2y)\$'),
    deleted       boolean NOT NULL DEFAULT false,  -- a retired associate can no longer log in
    registered    timestamptz NOT NULL DEFAULT now()
);
-- Login names are case-insensitive, as in SuperOffice.
CREATE UNIQUE INDEX associate_name_key ON associate (lower(name));

-- Custom HTTP headers of a webhook: a JSON object whose values are all strings.
CREATE FUNCTION webhook_headers_valid(headers jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT jsonb_typeof(headers) = 'object'
       AND NOT EXISTS (SELECT 1 FROM jsonb_each(headers) AS h WHERE jsonb_typeof(h.value) <> 'string')
$$;

-- The values CreateDefaultWebhook returns: exactly one row, which an operator may change.
-- state: 0 Unknown, 1 Active, 2 Stopped, 3 TooManyErrors. Limits are NetServer's column sizes.
CREATE TABLE webhook_default (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    name       text CHECK (length(name) <= 400),
    events     text[] CHECK (array_ndims(events) = 1 AND array_position(events, NULL) IS NULL),
    target_url text CHECK (length(target_url) <= 4000),
    secret     text CHECK (length(secret) <= 400),
    state      smallint NOT NULL CHECK (state BETWEEN 0 AND 3),
    type       text CHECK (length(type) <= 100),
    headers    jsonb CHECK (webhook_headers_valid(headers)),
    properties jsonb CHECK (jsonb_typeof(properties) = 'object')
);
