-- A user name is what a Basic login can send (src/auth.c, auth_user_valid): at most 128 bytes of
-- UTF-8 without control characters. The daemon refuses anything else at the door, before any
-- lookup, so a row breaking the rule could never log in; this keeps such rows out. NOT VALID: an
-- existing row that breaks it stays (and cannot log in), but no new or changed row may.
ALTER TABLE associate ADD CONSTRAINT associate_name_loginable
    CHECK (octet_length(name) <= 128 AND name !~ '[\u0001-\u001f\u007f-\u009f]') NOT VALID;
