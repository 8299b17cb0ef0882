-- What the request headers of the reference page need: tickets and tokens (Authorization),
-- browser sessions (X-XSRF-TOKEN), partner applications (SO-AppToken), languages and
-- resources (Accept-Language, SO-Language), cultures (SO-Culture) and time zones (SO-TimeZone).

-- SOTicket tickets and Bearer tokens. Only the SHA-256 of a token is stored: tokens are long
-- random strings, so a fast hash is enough to make a stolen table useless.
CREATE TABLE credential (
    token_sha256 bytea PRIMARY KEY CHECK (length(token_sha256) = 32),
    scheme       text NOT NULL CHECK (scheme IN ('soticket', 'bearer')),
    associate_id integer NOT NULL REFERENCES associate ON DELETE CASCADE,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Browser sessions: the session cookie and the XSRF token issued with it, both hashed.
CREATE TABLE browser_session (
    session_sha256 bytea PRIMARY KEY CHECK (length(session_sha256) = 32),
    xsrf_sha256    bytea NOT NULL CHECK (length(xsrf_sha256) = 32),
    associate_id   integer NOT NULL REFERENCES associate ON DELETE CASCADE,
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Partner applications. The Webhook agent is "Online restricted": an application reaches it
-- only once granted webhook access.
CREATE TABLE application (
    application_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text NOT NULL,
    token_sha256   bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    webhook_access boolean NOT NULL DEFAULT false,
    revoked_at     timestamptz
);

-- Languages a caller may ask for (ISO 639-1 codes) and the code that marks their variant in
-- multi-language values (US:"New hook";NO:"Ny hook"). One language is the fallback.
CREATE TABLE language (
    code       text PRIMARY KEY CHECK (code ~ '^[a-z]{2,3}$'),
    ml_code    text NOT NULL CHECK (ml_code ~ '^[A-Z]{2,3}$'),
    name       text NOT NULL,
    is_default boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX language_one_default ON language (is_default) WHERE is_default;
INSERT INTO language (code, ml_code, name, is_default) VALUES
    ('en', 'US', 'English', true),
    ('no', 'NO', 'Norsk', false),
    ('nb', 'NO', 'Norsk bokmål', false),
    ('sv', 'SE', 'Svenska', false),
    ('da', 'DK', 'Dansk', false),
    ('de', 'GE', 'Deutsch', false),
    ('fr', 'FR', 'Français', false),
    ('nl', 'NL', 'Nederlands', false),
    ('fi', 'FI', 'Suomi', false);

-- Resource strings, referenced as [SR_NAME] in stored values.
CREATE TABLE resource (
    name     text NOT NULL CHECK (name ~ '^SR_[A-Z0-9_]+$' AND length(name) <= 128),
    language text NOT NULL REFERENCES language ON DELETE CASCADE,
    value    text NOT NULL,
    PRIMARY KEY (name, language)
);
INSERT INTO resource (name, language, value) VALUES
    ('SR_WEBHOOK_NEW', 'en', 'New webhook'),
    ('SR_WEBHOOK_NEW', 'no', 'Ny webhook'),
    ('SR_WEBHOOK_NEW', 'nb', 'Ny webhook'),
    ('SR_WEBHOOK_NEW', 'sv', 'Ny webhook'),
    ('SR_WEBHOOK_NEW', 'da', 'Ny webhook'),
    ('SR_WEBHOOK_NEW', 'de', 'Neuer Webhook'),
    ('SR_WEBHOOK_NEW', 'fr', 'Nouveau webhook'),
    ('SR_WEBHOOK_NEW', 'nl', 'Nieuwe webhook'),
    ('SR_WEBHOOK_NEW', 'fi', 'Uusi webhook');

-- Cultures for numbers and dates inside strings (SO-Culture).
CREATE TABLE culture (
    code              text PRIMARY KEY CHECK (code ~ '^[a-z]{2,3}(-[A-Z]{2})?$'),
    decimal_separator text NOT NULL CHECK (length(decimal_separator) = 1),
    group_separator   text NOT NULL CHECK (length(group_separator) <= 1),
    date_pattern      text NOT NULL CHECK (date_pattern ~ '^[dMy./ -]+$')
);
INSERT INTO culture (code, decimal_separator, group_separator, date_pattern) VALUES
    ('en', '.', ',', 'M/d/yyyy'),
    ('en-US', '.', ',', 'M/d/yyyy'),
    ('en-GB', '.', ',', 'dd/MM/yyyy'),
    ('no', ',', ' ', 'dd.MM.yyyy'),
    ('nb', ',', ' ', 'dd.MM.yyyy'),
    ('nb-NO', ',', ' ', 'dd.MM.yyyy'),
    ('sv', ',', ' ', 'yyyy-MM-dd'),
    ('sv-SE', ',', ' ', 'yyyy-MM-dd'),
    ('da', ',', '.', 'dd-MM-yyyy'),
    ('da-DK', ',', '.', 'dd-MM-yyyy'),
    ('de', ',', '.', 'dd.MM.yyyy'),
    ('de-DE', ',', '.', 'dd.MM.yyyy'),
    ('fr', ',', ' ', 'dd/MM/yyyy'),
    ('fr-FR', ',', ' ', 'dd/MM/yyyy'),
    ('nl', ',', '.', 'd-M-yyyy'),
    ('nl-NL', ',', '.', 'd-M-yyyy'),
    ('fi', ',', ' ', 'd.M.yyyy'),
    ('fi-FI', ',', ' ', 'd.M.yyyy');

-- SuperOffice time zones: country-based codes mapped to IANA zones. Numeric ids are SuperOffice's
-- where documented (UTC 1, DK 140, NO 261, US-NY 460); the others have none rather than a guess.
CREATE TABLE timezone (
    code        text PRIMARY KEY CHECK (code ~ '^[A-Z]{2,3}(-[A-Z]{2,3})?$'),
    timezone_id integer UNIQUE,
    iana        text NOT NULL,
    name        text NOT NULL
);
INSERT INTO timezone (code, timezone_id, iana, name) VALUES
    ('UTC', 1, 'UTC', 'Coordinated Universal Time'),
    ('NO', 261, 'Europe/Oslo', 'Norway'),
    ('DK', 140, 'Europe/Copenhagen', 'Denmark'),
    ('SE', NULL, 'Europe/Stockholm', 'Sweden'),
    ('FI', NULL, 'Europe/Helsinki', 'Finland'),
    ('IS', NULL, 'Atlantic/Reykjavik', 'Iceland'),
    ('FO', NULL, 'Atlantic/Faroe', 'Faroe Islands'),
    ('GB', NULL, 'Europe/London', 'United Kingdom'),
    ('IE', NULL, 'Europe/Dublin', 'Ireland'),
    ('FR', NULL, 'Europe/Paris', 'France'),
    ('DE', NULL, 'Europe/Berlin', 'Germany'),
    ('NL', NULL, 'Europe/Amsterdam', 'Netherlands'),
    ('BE', NULL, 'Europe/Brussels', 'Belgium'),
    ('LU', NULL, 'Europe/Luxembourg', 'Luxembourg'),
    ('CH', NULL, 'Europe/Zurich', 'Switzerland'),
    ('AT', NULL, 'Europe/Vienna', 'Austria'),
    ('ES', NULL, 'Europe/Madrid', 'Spain'),
    ('PT', NULL, 'Europe/Lisbon', 'Portugal'),
    ('IT', NULL, 'Europe/Rome', 'Italy'),
    ('PL', NULL, 'Europe/Warsaw', 'Poland'),
    ('CZ', NULL, 'Europe/Prague', 'Czechia'),
    ('EE', NULL, 'Europe/Tallinn', 'Estonia'),
    ('LV', NULL, 'Europe/Riga', 'Latvia'),
    ('LT', NULL, 'Europe/Vilnius', 'Lithuania'),
    ('GR', NULL, 'Europe/Athens', 'Greece'),
    ('BD', NULL, 'Asia/Dhaka', 'Bangladesh'),
    ('US-NY', 460, 'America/New_York', 'United States, New York'),
    ('US-MA', NULL, 'America/New_York', 'United States, Massachusetts'),
    ('US-IL', NULL, 'America/Chicago', 'United States, Illinois'),
    ('US-TX', NULL, 'America/Chicago', 'United States, Texas (Central)'),
    ('US-CO', NULL, 'America/Denver', 'United States, Colorado'),
    ('US-AZ', NULL, 'America/Phoenix', 'United States, Arizona'),
    ('US-CA', NULL, 'America/Los_Angeles', 'United States, California'),
    ('US-WA', NULL, 'America/Los_Angeles', 'United States, Washington'),
    ('US-AK', NULL, 'America/Anchorage', 'United States, Alaska'),
    ('US-HI', NULL, 'Pacific/Honolulu', 'United States, Hawaii'),
    ('CA-QC', NULL, 'America/Toronto', 'Canada, Quebec'),
    ('CA-ON', NULL, 'America/Toronto', 'Canada, Ontario'),
    ('CA-BC', NULL, 'America/Vancouver', 'Canada, British Columbia'),
    ('AU-ACT', NULL, 'Australia/Sydney', 'Australia, Capital Territory'),
    ('AU-NSW', NULL, 'Australia/Sydney', 'Australia, New South Wales'),
    ('AU-VIC', NULL, 'Australia/Melbourne', 'Australia, Victoria'),
    ('AU-QLD', NULL, 'Australia/Brisbane', 'Australia, Queensland'),
    ('AU-SA', NULL, 'Australia/Adelaide', 'Australia, South Australia'),
    ('AU-WA', NULL, 'Australia/Perth', 'Australia, Western Australia'),
    ('AU-TAS', NULL, 'Australia/Hobart', 'Australia, Tasmania'),
    ('AU-NT', NULL, 'Australia/Darwin', 'Australia, Northern Territory');

-- Every mapping must name a zone this PostgreSQL knows, or date-times could not be converted.
DO $$
DECLARE unknown text;
BEGIN
    SELECT string_agg(t.iana, ', ') INTO unknown
    FROM timezone t WHERE NOT EXISTS (SELECT 1 FROM pg_timezone_names n WHERE n.name = t.iana);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown IANA time zones: %', unknown;
    END IF;
END $$;
