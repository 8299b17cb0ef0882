"""Basic authentication against table associate: every failure is the same-shaped 401."""
import base64

import pytest

from e2e_support import DEFAULT_BODY, ENDPOINT, JSON_CT, WWW_AUTHENTICATE, WWW_AUTHENTICATE_ALL, basic, error_body

MSG_ABSENT = "Authentication required: send an Authorization header, or the session cookie with X-XSRF-TOKEN."
MSG_SCHEME = "This Authorization scheme is not accepted here; WWW-Authenticate lists the accepted ones."
MSG_MALFORMED = "The Authorization header is malformed: expected Basic and the base64 encoding of user:password."
MSG_INVALID = "Invalid user name or password."


def assert_401(r, message):
    assert r.status == 401, r
    # One challenge per accepted scheme; the Basic one exactly as NetServer words it.
    assert r.header_values("www-authenticate") == WWW_AUTHENTICATE_ALL
    assert WWW_AUTHENTICATE in r.header_values("www-authenticate")
    assert r.headers["content-type"] == JSON_CT
    assert r.headers["content-length"] == str(len(r.body))
    assert r.body == error_body("Unauthorized", message, "webhookd/auth")


def assert_ok(r):
    assert r.status == 200, r
    assert r.headers["content-type"] == JSON_CT
    assert r.body == DEFAULT_BODY


def b64(raw):
    return base64.b64encode(raw).decode("ascii")


def test_no_authorization_header(stack):
    assert_401(stack.post(auth=None), MSG_ABSENT)


def test_empty_authorization_header(stack):
    assert_401(stack.post(auth=None, headers={"Authorization": ""}), MSG_ABSENT)


@pytest.mark.parametrize("value", [
    "Digest x",
    "Digest username=\"alice\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"0\"",
    "Negotiate YII=",
    "NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==",
    "Basicx YWxpY2U6eA==",
    "Token abc",
    "AWS4-HMAC-SHA256 Credential=x",
])
def test_other_scheme(stack, value):
    assert_401(stack.post(auth=value), MSG_SCHEME)


@pytest.mark.parametrize("value,message", [
    # Tickets and tokens are other schemes the installation accepts: unknown ones are "not valid".
    ("Bearer abc", "The bearer token is not valid."),
    ("bearer " + "t" * 100, "The bearer token is not valid."),
    ("SOTicket 7T:abc==", "The ticket is not valid."),
    ("Bearer", "The Authorization header is malformed: expected Bearer and a token."),
    ("SOTicket", "The Authorization header is malformed: expected SOTicket and a ticket."),
    ("Bearer a b", "The Authorization header is malformed: expected Bearer and a token."),
], ids=["bearer", "bearer-lower", "soticket", "bearer-alone", "soticket-alone", "bearer-two-tokens"])
def test_unknown_ticket_or_token(stack, value, message):
    assert_401(stack.post(auth=value), message)


MALFORMED = {
    "scheme-alone": "Basic",
    "scheme-alone-lower": "basic",
    "not-base64": "Basic !!!notbase64",
    "no-colon": "Basic " + b64(b"alice"),
    "no-colon-unpadded": "Basic " + b64(b"alice-without-colon").rstrip("="),
    "padding-missing": "Basic YWxpY2U6eA",                # "alice:x" without its "="
    "padding-too-long": "Basic YWxpY2U6eA===",
    "padding-inside": "Basic YWxpY2U6e=A=",
    "nul-in-user": "Basic " + b64(b"al\x00ice:pw"),
    "nul-in-password": "Basic " + b64(b"alice:p\x00w"),
    "second-token": "Basic " + b64(b"alice:pw") + " extra",
    "space-inside-token": "Basic YWxp Y2U6cHc=",
    "few-kb-credentials": "Basic " + b64(b"alice:" + b"p" * 3000),
    "huge-token": "Basic " + "A" * 8000,
    "user-over-128": "Basic " + b64(b"u" * 129 + b":pw"),
    "password-over-256": "Basic " + b64(b"alice:" + b"p" * 257),
    "percent-encoded": "Basic " + b64(b"alice:pw").replace("=", "%3D"),
    "url-safe-alphabet": "Basic YWxpY2U6cHc-",
    # A user name is 1 to 128 bytes of UTF-8 without control characters (src/auth.c): anything
    # else cannot be anyone's, and is refused before any lookup.
    "empty-user": "Basic " + b64(b":pw"),
    "empty-user-and-password": "Basic " + b64(b":"),
    "user-not-utf8": "Basic " + b64(b"\xffalice:pw"),
    "user-latin1": "Basic " + b64(b"j\xf8rgen:pw"),
    "user-overlong-utf8": "Basic " + b64(b"\xc0\xafetc:pw"),
    "user-surrogate": "Basic " + b64(b"\xed\xa0\x80:pw"),
    "user-truncated-utf8": "Basic " + b64(b"ali\xc3:pw"),
    "user-tab": "Basic " + b64(b"al\tice:pw"),
    "user-escape": "Basic " + b64(b"\x1b[31malice:pw"),
    "user-del": "Basic " + b64(b"alice\x7f:pw"),
    "user-c1-control": "Basic " + b64(b"alice\xc2\x85:pw"),
    "user-utf8-over-128-bytes": "Basic " + b64("\u00e5".encode() * 65 + b":pw"),
}


@pytest.mark.parametrize("value", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed(stack, value):
    assert_401(stack.post(auth=value), MSG_MALFORMED)


@pytest.mark.parametrize("user,password", [
    ("nobody", "whatever"),
    ("alice", "wrong password"),
    ("alice", ""),
    ("alice ", None),       # a trailing space is part of the name
    (" alice", None),
    ("alic", None),
    ("alice%", None),       # no pattern matching in the lookup
    ("al_ce", None),
    ("u" * 128, "pw"),      # longest acceptable user name, unknown
    ("\u00e5" * 64, "pw"),  # 128 bytes of UTF-8, unknown
    ("alice", b"\xff\xfe"),  # a password is any bytes but NUL: it only meets crypt(3)
    ("alice", b"p\tw\x01"),
])
def test_invalid_credentials(stack, user, password):
    assert_401(stack.post(auth=basic(user, stack.password if password is None else password)), MSG_INVALID)


def test_password_is_case_sensitive(stack):
    assert_401(stack.post(auth=basic("alice", stack.password.swapcase())), MSG_INVALID)
    assert_401(stack.post(auth=basic("alice", stack.password + " ")), MSG_INVALID)


@pytest.mark.parametrize("scheme", ["Basic", "basic", "BASIC", "bAsIc"])
def test_scheme_name_any_case(stack, scheme):
    assert_ok(stack.post(auth=scheme + " " + b64(("alice:" + stack.password).encode())))


@pytest.mark.parametrize("user", ["alice", "ALICE", "Alice", "aLiCe"])
def test_user_name_case_insensitive(stack, user):
    assert_ok(stack.post(auth=basic(user, stack.password)))


@pytest.mark.parametrize("value", [
    "Basic   {b64}",      # several spaces after the scheme
    "Basic\t{b64}",       # a tab
    "Basic {b64}  ",      # trailing blanks (nginx strips them anyway)
])
def test_blanks_around_the_token(stack, value):
    assert_ok(stack.post(auth=value.format(b64=b64(("alice:" + stack.password).encode()))))


def test_unknown_user_and_wrong_password_are_indistinguishable(stack):
    a = stack.post(auth=basic("nobody-at-all", "x"))
    b = stack.post(auth=basic("alice", "x"))
    assert (a.status, a.body, a.header_values("www-authenticate")) == \
        (b.status, b.body, b.header_values("www-authenticate"))


def test_auth_is_checked_for_every_request_on_a_kept_connection(stack):
    conn = stack.connection()
    try:
        assert_ok(stack.post(conn=conn))
        assert_401(stack.post(auth=None, conn=conn), MSG_ABSENT)
        assert_401(stack.post(auth=basic("alice", "nope"), conn=conn), MSG_INVALID)
        assert_ok(stack.post(conn=conn))
    finally:
        conn.close()


# -- associates added, changed and retired through the database ---------------------------------------

@pytest.mark.parametrize("user,password", [
    ("bob", "correct horse battery staple"),
    ("carol", "pa:ss:wo:rd"),                 # the first colon splits user from password
    ("dave", "pässwörd ✓ 😀"),                 # UTF-8
    ("erin", "p" * 256),                       # the longest password
    ("U" * 128, "longest-user"),               # the longest user name
    ("frank.o'neil@example.com", "quote'd \"pw\" \\"),
], ids=["plain", "colons", "utf8", "longest-password", "longest-user", "quotes"])
def test_seeded_associate_can_log_in(associates, user, password):
    associates.seed(user, password)
    assert_ok(associates.post(auth=basic(user, password)))
    assert_ok(associates.post(auth=basic(user.swapcase(), password)))
    wrong = password[:-1] + ("y" if password[-1] != "y" else "z")
    assert_401(associates.post(auth=basic(user, wrong)), MSG_INVALID)


def test_retired_associate_is_refused_at_once(associates):
    associates.seed("grace", "grace-pw")
    assert_ok(associates.post(auth=basic("grace", "grace-pw")))  # now remembered by the auth cache
    associates.sql("UPDATE associate SET deleted = true WHERE name = 'grace'")
    assert_401(associates.post(auth=basic("grace", "grace-pw")), MSG_INVALID)
    assert_401(associates.post(auth=basic("GRACE", "grace-pw")), MSG_INVALID)
    associates.seed("grace", "grace-pw")  # seeding un-retires
    assert_ok(associates.post(auth=basic("grace", "grace-pw")))


def test_retired_session_user(associates):
    associates.sql("UPDATE associate SET deleted = true WHERE name = %s", (associates.user,))
    for _ in range(10):  # whichever worker answers
        assert_401(associates.post(), MSG_INVALID)


def test_changed_password_takes_effect_at_once(associates):
    associates.seed("heidi", "old-password")
    for _ in range(10):
        assert_ok(associates.post(auth=basic("heidi", "old-password")))
    associates.seed("heidi", "new-password")
    for _ in range(10):
        assert_401(associates.post(auth=basic("heidi", "old-password")), MSG_INVALID)
        assert_ok(associates.post(auth=basic("heidi", "new-password")))


def test_deleted_associate_row_is_refused(associates):
    associates.seed("ivan", "ivan-pw")
    assert_ok(associates.post(auth=basic("ivan", "ivan-pw")))
    associates.sql("DELETE FROM associate WHERE name = 'ivan'")
    assert_401(associates.post(auth=basic("ivan", "ivan-pw")), MSG_INVALID)


def test_bcrypt_hash_is_accepted(associates):
    # The schema admits bcrypt ($2b$) next to yescrypt: crypt(3) of "bcrypt-pw", cost 4.
    known = "$2b$04$fAIO4IcVxIkEO8mCdbGEVu4yUf96slHwByb5MTrdV4Yf7w4g82lZG"
    associates.sql("INSERT INTO associate (name, password_hash) VALUES ('judy', %s)", (known,))
    assert_ok(associates.post(auth=basic("judy", "bcrypt-pw")))
    assert_401(associates.post(auth=basic("judy", "bcrypt-pw2")), MSG_INVALID)


# -- failing logins look alike; old hashes are upgraded -----------------------------------------------

# crypt(3) hashes of older schemes than the current one (yescrypt at libxcrypt's default cost, $y$j9T$).
BCRYPT_4 = "$2b$04$wPwZbzlpfmevtsHRH9o6m.pBQQlDHMopcSzmsx8Ks9CvRz7TIfqu2"          # "bcrypt-pw"
BCRYPT_10 = "$2b$10$VLYSCecBrwvZeJ/33.YCkOB0CJZhDXpL7s8mOZ8uuzBbp7qOM2.Ta"         # "costly-pw"
YESCRYPT_WEAK = "$y$j7T$uye4EvfFJ17h85GE9CnFo.$RVk6GDKfcxRovtirpwpON7NiWWmT43W0HhoBlgPWUF5"  # "weak-yescrypt-pw"


def without_date(r):
    return (r.status, r.body, [(k, v) for k, v in r.header_list if k != "date"])


def stored_hash(stack, user):
    return stack.sql("SELECT password_hash FROM associate WHERE lower(name) = lower(%s)", (user,))[0][0]


def test_failing_logins_look_alike(associates):
    """Unknown user, retired associate (right password or not), wrong password against a yescrypt,
    a cheap bcrypt, a costly bcrypt or a weaker yescrypt hash: the very same answer, byte for byte
    but the date. (Each also costs one check at the current scheme's cost: README, "Security".)"""
    associates.seed("yves", "yves-pw")
    associates.seed("rita", "rita-pw")
    associates.sql("UPDATE associate SET deleted = true WHERE name = 'rita'")
    for name, known in (("bea", BCRYPT_4), ("cost", BCRYPT_10), ("wendy", YESCRYPT_WEAK)):
        associates.sql("INSERT INTO associate (name, password_hash) VALUES (%s, %s)", (name, known))
    answers = [without_date(associates.post(auth=basic(user, password))) for user, password in (
        ("nobody-at-all", "x"), ("rita", "rita-pw"), ("rita", "x"), ("yves", "x"), ("bea", "x"), ("cost", "x"),
        ("wendy", "x"), ("YVES", "yves-pw "))]
    assert answers[0][0] == 401
    assert answers[0][1] == error_body("Unauthorized", MSG_INVALID, "webhookd/auth")
    assert all(a == answers[0] for a in answers), answers
    # A failure upgrades nothing.
    assert stored_hash(associates, "bea") == BCRYPT_4
    assert stored_hash(associates, "wendy") == YESCRYPT_WEAK


@pytest.mark.parametrize("old,password", [(BCRYPT_4, "bcrypt-pw"), (BCRYPT_10, "costly-pw"),
                                          (YESCRYPT_WEAK, "weak-yescrypt-pw")],
                         ids=["bcrypt-cost-4", "bcrypt-cost-10", "yescrypt-weaker"])
def test_old_hash_is_upgraded_at_the_next_good_login(associates, old, password):
    associates.sql("INSERT INTO associate (name, password_hash) VALUES ('olga', %s)", (old,))
    current = stored_hash(associates, "alice")[:7]  # what --hash-password writes: "$y$j9T$"
    assert current.startswith("$y$") and not old.startswith(current)
    assert_ok(associates.post(auth=basic("olga", password)))
    upgraded = stored_hash(associates, "olga")
    assert upgraded != old and upgraded.startswith(current)
    # The same password still opens the door, through the cache and through a fresh check of the
    # new hash (another spelling of the name is another header, so another cache entry); a wrong
    # one does not; and nothing is upgraded twice.
    assert_ok(associates.post(auth=basic("olga", password)))
    assert_ok(associates.post(auth=basic("OLGA", password)))
    associates.flush_caches()
    assert_ok(associates.post(auth=basic("Olga", password)))
    assert_401(associates.post(auth=basic("olga", password + "x")), MSG_INVALID)
    assert stored_hash(associates, "olga") == upgraded


def test_current_hash_is_left_alone(associates):
    associates.seed("carl", "carl-pw")
    before = stored_hash(associates, "carl")
    assert_ok(associates.post(auth=basic("carl", "carl-pw")))
    assert stored_hash(associates, "carl") == before


def test_session_user_still_works(stack):
    # Any order: the fixtures above must have restored alice.
    assert_ok(stack.post())


def test_auth_comes_after_routing(stack):
    # Unknown paths and wrong methods are answered before credentials are looked at.
    r = stack.request("GET", ENDPOINT)
    assert r.status == 405
    r = stack.post("/api/v1/Agents/Webhook/Nope", auth=None)
    assert r.status == 404
