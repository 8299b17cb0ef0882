"""The operator page (www/, served by nginx at /operator/) in a real headless Chromium, against a
real stack: real webhooks, real deliveries to a loopback receiver, the REST API of issue 12.

What is proven:
  1. Sign-in: a wrong password is refused with the server's message and no browser login dialog
     (the daemon's 401 carries WWW-Authenticate: Basic); a right one, or a bearer token, by
     keyboard only; the credentials live in sessionStorage only and go with every API request
     with X-Requested-With; signing out forgets them.
  2. The list: each webhook's state, attempts of the last 24 hours and last error, as the API has them.
  3. The delivery log: delivered and failed events, the outcome and time filters, paging along
     NextCursor, an event expanded to its AttemptLog.
  4. Resend and Recover through the buttons reach the receiver; on a webhook that is not Active
     the page shows the API's 409 message; Activate (PATCH State) fixes that.
  5. The charts' bars are the Activity data, to scale.
  6. A phone (375 px): no horizontal overflow. Accessibility basics: landmarks, every control
     named, text alternatives of the charts, table headers, a live status region, visible focus,
     text contrast.
  7. Controls: saved through the form, read back through the API.
Screenshots (desktop and phone) are written by test_screenshots (OPERATOR_SCREENSHOTS=1 keeps them).
"""
import json
import secrets
import urllib.parse
from datetime import datetime, timedelta

import pytest

from e2e_support import basic, token_digest, wait_until
from test_delivery import save_hook, send, signal, unique

REST = "/api/v1/Webhook"
MERGE_PATCH = "application/merge-patch+json"


# -- helpers ---------------------------------------------------------------------------------------

def api(stack, path, method="GET", body=None, content_type="application/json"):
    r = send(stack, method, path, body, content_type)
    assert 200 <= r.status < 300, r
    return r.json() if r.body else None


def events(stack, hook_id, **query):
    """Every event of a webhook as GET .../Events pages them (newest first)."""
    items, cursor = [], None
    while True:
        q = dict(query, limit=500, **({"cursor": cursor} if cursor else {}))
        page = api(stack, "%s/%d/Events?%s" % (REST, hook_id, urllib.parse.urlencode(q)))
        items += page["Items"]
        cursor = page["NextCursor"]
        if cursor is None:
            return items



def outcomes(stack, hook_id):
    return sorted(e["Outcome"] for e in events(stack, hook_id))


def delivered_hook(stack, rx, name, count):
    """A webhook whose target takes everything, with `count` events delivered to it."""
    path, event = unique("/ok-"), unique("order.")
    hook = save_hook(stack, rx.url(path), [event], Name=name)
    for key in range(1, count + 1):
        signal(stack, event, key, {"n": key})
    wait_until("%d delivered events" % count, lambda: outcomes(stack, hook["WebhookId"]) == ["Delivered"] * count)
    return hook


def failing_hook(stack, rx, name, count=1):
    """A webhook whose target answers 500, with `count` Failed events; it ends TooManyErrors.
    Each event fails alone (three attempts turn the webhook TooManyErrors, which holds back any
    other): the webhook is set Active again between them."""
    path, event = unique("/down-"), unique("invoice.")
    hook = save_hook(stack, rx.url(path), [event], Name=name)
    rx.respond(path, status=500, body=b"database down")
    hook_id = hook["WebhookId"]
    for key in range(1, count + 1):
        if key > 1:
            api(stack, "%s/%d" % (REST, hook_id), "PATCH", {"State": "Active"}, MERGE_PATCH)
        signal(stack, event, key, {"n": key})
        wait_until("%d failed events" % key, lambda: outcomes(stack, hook_id) == ["Failed"] * key)
    wait_until("TooManyErrors", lambda: api(stack, "%s/%d" % (REST, hook_id))["State"] == "TooManyErrors")
    return hook, path


def status_text(page):
    return page.js("document.getElementById('status').textContent")


def visible(page, element_id):
    return page.js("!document.getElementById(%s).hidden" % json.dumps(element_id))


def sign_in(page, stack, password=None):
    page.goto(stack.base_url + "/operator/")
    page.wait_for("!document.getElementById('sign-in-view').hidden")
    page.fill("#user", stack.user)
    page.fill("#password", stack.password if password is None else password)
    page.press("Enter")


def signed_in(page, stack):
    sign_in(page, stack)
    page.wait_for("!document.getElementById('hooks-view').hidden")
    wait_rows_filled(page)


def wait_rows_filled(page):
    """The list fills each row's counters and last error after it shows the rows."""
    page.wait_for("[...document.querySelectorAll('#hooks-table td')].every(td => td.textContent !== '…')")


def open_hook(page, hook_id):
    page.js("location.hash = '#/webhook/%d'" % hook_id)
    page.wait_for("!document.getElementById('hook-view').hidden && "
                  "document.getElementById('hook-title').textContent.endsWith('#%d') && "
                  "document.getElementById('main').getAttribute('aria-busy') === 'false'" % hook_id)


def log_rows(page):
    """The delivery log's rows: [DeliveryId, Outcome]."""
    return page.js("""[...document.querySelectorAll('#log-table > tbody > tr:not(.detail)')].map(tr =>
        [Number(tr.cells[0].textContent), tr.cells[3].querySelector('.badge').textContent])""")


def filter_log(page, outcome="", since="", until_=""):
    page.js("""(() => { document.getElementById('log-outcome').value = %s;
        document.getElementById('log-since').value = %s; document.getElementById('log-until').value = %s; })()"""
            % (json.dumps(outcome), json.dumps(since), json.dumps(until_)))
    # The log is aria-busy while it loads: marked busy here, it is done when the page says so.
    page.js("document.getElementById('log-section').setAttribute('aria-busy', 'true')")
    page.click("#log-filter button[type=submit]")
    page.wait_for("document.getElementById('log-section').getAttribute('aria-busy') === 'false'")


def row_of(page, hook_id):
    """The list's row of a webhook: [name cell, state, target, calls, errors, in a row, last error]."""
    return page.js("""(() => { const a = document.querySelector('#hooks-table a[href="#/webhook/%d"]');
        return a && [...a.closest('tr').cells].map(c => c.textContent); })()""" % hook_id)


def activity_totals(activity):
    return (sum(i["Succeeded"] for i in activity["Items"]), sum(i["Failed"] for i in activity["Items"]))


def utc_input(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


@pytest.fixture(scope="module")
def scene(stack, rx):
    """Two webhooks for the tests that only look: one with two delivered events, one whose
    target fails (one Failed event, TooManyErrors)."""
    crm = delivered_hook(stack, rx, "CRM sync", 2)
    billing, _ = failing_hook(stack, rx, "Billing", 1)
    return {"crm": crm, "billing": billing}


# -- 1. sign-in ------------------------------------------------------------------------------------

def test_a_wrong_password_is_refused_without_a_browser_dialog(page, stack, browser):
    """Fetch.authRequired is where Chromium would ask the user with its own dialog: it must never
    fire (the page's requests omit credentials, so the browser has none to ask for)."""
    browser.on("Fetch.requestPaused", lambda p, s: browser.send("Fetch.continueRequest", {"requestId": p["requestId"]}, s))
    browser.on("Fetch.authRequired", lambda p, s: browser.send(
        "Fetch.continueWithAuth", {"requestId": p["requestId"], "authChallengeResponse": {"response": "CancelAuth"}}, s))
    page.send("Fetch.enable", {"handleAuthRequests": True, "patterns": [{"urlPattern": "*/api/*"}]})
    sign_in(page, stack, password="not-" + stack.password)
    page.wait_for("document.getElementById('status').textContent !== ''")
    assert status_text(page) == "Invalid user name or password."
    assert visible(page, "sign-in-view") and not visible(page, "hooks-view")
    assert page.js("document.activeElement.id") == "password"
    assert page.js("document.getElementById('password').value") == ""
    assert page.js("[sessionStorage.length, localStorage.length, document.cookie]") == [0, 0, ""]
    assert page.events("Fetch.authRequired") == []
    assert page.events("Fetch.requestPaused"), "the sign-in went to the API"


def test_a_right_password_signs_in_and_goes_with_every_request(page, stack):
    page.send("Network.enable")
    signed_in(page, stack)
    authorization = basic(stack.user, stack.password)
    assert page.js("sessionStorage.getItem('webhookd.authorization')") == authorization
    assert page.js("[localStorage.length, document.cookie]") == [0, ""]
    assert page.js("document.getElementById('who-name').textContent") == "Signed in as " + stack.user
    requests = [e["request"] for e in page.events("Network.requestWillBeSent") if "/api/" in e["request"]["url"]]
    assert requests
    for request in requests:
        assert request["headers"].get("Authorization") == authorization, request
        assert request["headers"].get("X-Requested-With") == "XMLHttpRequest", request
    # A reload keeps the session (the same tab); signing out forgets it.
    page.reload()
    page.wait_for("!document.getElementById('hooks-view').hidden")
    page.click("#sign-out")
    page.wait_for("!document.getElementById('sign-in-view').hidden")
    assert page.js("sessionStorage.length") == 0


def test_a_bearer_token_signs_in_by_keyboard_alone(page, stack):
    token = secrets.token_urlsafe(24)
    stack.secrets.add(token)
    stack.sql("INSERT INTO credential (token_sha256, scheme, associate_id, expires_at) "
              "SELECT %s, 'bearer', associate_id, now() + interval '1 hour' FROM associate WHERE lower(name) = lower(%s)",
              (token_digest(token), stack.user))
    page.goto(stack.base_url + "/operator/")
    page.wait_for("!document.getElementById('sign-in-view').hidden")
    # Tab from the top: the skip link first, then the method radios; arrow keys are not needed
    # since the form is reachable in order.
    page.focus("input[name=method][value=token]")
    page.press("Space")
    page.wait_for("!document.getElementById('token-fields').hidden")
    page.press("Tab")
    assert page.js("document.activeElement.id") == "scheme"
    page.js("document.getElementById('scheme').value = 'Bearer'")
    page.press("Tab")
    assert page.js("document.activeElement.id") == "token"
    page.type(token)
    page.press("Enter")
    page.wait_for("!document.getElementById('hooks-view').hidden")
    assert page.js("sessionStorage.getItem('webhookd.authorization')") == "Bearer " + token
    # The credential stops working (revoked): the next call asks to sign in again.
    stack.sql("UPDATE credential SET revoked_at = now() WHERE token_sha256 = %s", (token_digest(token),))
    page.click("#hooks-refresh")
    page.wait_for("!document.getElementById('sign-in-view').hidden")
    assert status_text(page) == "Sign in again: The bearer token has been revoked."
    assert page.js("sessionStorage.length") == 0


# -- 2. the list -----------------------------------------------------------------------------------

def test_the_list_shows_state_counters_and_last_error(page, stack, scene):
    signed_in(page, stack)
    for hook, state in ((scene["crm"], "Active"), (scene["billing"], "TooManyErrors")):
        hook_id = hook["WebhookId"]
        usage = api(stack, "%s/%d/Usage" % (REST, hook_id))
        name, shown_state, target, calls, errors, in_a_row, shown_error = row_of(page, hook_id)
        assert name == "%s #%d" % (hook["Name"], hook_id)
        assert (shown_state, target) == (state, hook["TargetUrl"])
        assert (calls, errors, in_a_row) == (str(usage["TotalCalls"]), str(usage["TotalErrors"]),
                                             str(usage["ConsecutiveErrors"]))
        last_error = usage["LastError"]
        assert shown_error == (last_error.splitlines()[0] if last_error else "none")
    # What the scene did: the working target has calls and no error; the failing one's answer is
    # the last error, after as many failures in a row as it took to turn it off.
    assert row_of(page, scene["crm"]["WebhookId"])[3:] == ["2", "0", "0", "none"]
    billing = row_of(page, scene["billing"]["WebhookId"])
    assert billing[4] == billing[5] != "0" and billing[6].startswith("HTTP/1.1 500 "), billing


# -- 3. the delivery log ---------------------------------------------------------------------------

def test_the_log_shows_delivered_and_failed_events_with_filters(page, stack, scene):
    signed_in(page, stack)
    crm, billing = scene["crm"]["WebhookId"], scene["billing"]["WebhookId"]
    open_hook(page, crm)
    assert log_rows(page) == [[e["DeliveryId"], "Delivered"] for e in events(stack, crm)]
    assert len(log_rows(page)) == 2
    open_hook(page, billing)
    [failed] = events(stack, billing)
    assert log_rows(page) == [[failed["DeliveryId"], "Failed"]]
    filter_log(page, outcome="delivered")
    assert visible(page, "log-empty") and not visible(page, "log-table")
    filter_log(page, outcome="failed")
    assert log_rows(page) == [[failed["DeliveryId"], "Failed"]]
    # Times are UTC, as the inputs' labels say: since inclusive, until exclusive.
    signalled = datetime.fromisoformat(failed["SignalledAt"][:19])
    filter_log(page, outcome="", since=utc_input(signalled + timedelta(seconds=1)))
    assert visible(page, "log-empty")
    filter_log(page, outcome="", since=utc_input(signalled - timedelta(minutes=1)),
               until_=utc_input(signalled + timedelta(minutes=1)))
    assert log_rows(page) == [[failed["DeliveryId"], "Failed"]]
    filter_log(page, outcome="", since="", until_=utc_input(signalled))
    assert visible(page, "log-empty")


def test_an_event_expands_to_its_attempts(page, stack, scene):
    signed_in(page, stack)
    hook_id = scene["billing"]["WebhookId"]
    [event] = events(stack, hook_id)
    detail = api(stack, "%s/%d/Events/%d" % (REST, hook_id, event["DeliveryId"]))
    open_hook(page, hook_id)
    page.click("#log-table button.details")
    page.wait_for("document.getElementById('delivery-%d')" % event["DeliveryId"])
    assert page.js("document.querySelector('#log-table button.details').getAttribute('aria-expanded')") == "true"
    shown = page.js("""[...document.querySelectorAll('#delivery-%d table.attempts tbody tr')].map(tr =>
        [...tr.cells].map(c => c.textContent))""" % event["DeliveryId"])
    assert len(shown) == 3 == len(detail["AttemptLog"])
    for row, attempt in zip(shown, detail["AttemptLog"]):
        assert row[:4] == [str(attempt["Cycle"]), str(attempt["Attempt"]), attempt["AttemptedAt"], "500"]
        assert row[5] == attempt["Response"]
    assert event["EventId"] in page.js("document.getElementById('delivery-%d').textContent" % event["DeliveryId"])
    page.click("#log-table button.details")
    page.wait_for("!document.getElementById('delivery-%d')" % event["DeliveryId"])


def test_paging_follows_next_cursor(page, stack, rx):
    hook = delivered_hook(stack, rx, "Paged", 30)
    expected = [e["DeliveryId"] for e in events(stack, hook["WebhookId"])]
    signed_in(page, stack)
    page.js("document.getElementById('log-limit').value = '25'")
    open_hook(page, hook["WebhookId"])
    assert [d for d, _ in log_rows(page)] == expected[:25]
    assert visible(page, "log-more")
    page.click("#log-more")
    page.wait_for("document.querySelectorAll('#log-table > tbody > tr').length === 30")
    assert [d for d, _ in log_rows(page)] == expected
    assert not visible(page, "log-more")
    # Keyboard users go on at the first new row.
    assert page.js("document.activeElement.getAttribute('aria-label')") == "Attempts of delivery %d" % expected[25]


# -- 4. resend, activate, recover ------------------------------------------------------------------

def test_resend_asks_for_activation_then_reaches_the_receiver(page, stack, rx):
    hook, path = failing_hook(stack, rx, "Resend me")
    hook_id = hook["WebhookId"]
    [event] = events(stack, hook_id)
    signed_in(page, stack)
    open_hook(page, hook_id)
    assert page.js("document.getElementById('hook-state').textContent") == "TooManyErrors"
    before = len(rx.requests(path))
    page.click("#log-table button.resend")
    page.wait_for("document.getElementById('status').textContent !== ''")
    assert status_text(page) == "Webhook %d is TooManyErrors: set its State to Active first, then resend." % hook_id
    assert page.js("document.getElementById('status').className") == "status status-error"
    assert outcomes(stack, hook_id) == ["Failed"]

    rx.respond(path, status=200)
    page.click("#hook-activate")
    page.wait_for("document.getElementById('hook-state').textContent === 'Active'")
    assert status_text(page) == "Webhook %d is Active again." % hook_id
    assert not visible(page, "hook-activate")
    assert api(stack, "%s/%d" % (REST, hook_id))["State"] == "Active"

    page.click("#log-table button.resend")
    page.wait_for("document.getElementById('status').textContent.startsWith('Delivery')")
    assert status_text(page) == "Delivery %d is queued again (cycle %d)." % (event["DeliveryId"], event["Cycle"] + 1)
    [delivery] = [r for r in rx.wait_for(before + 1, path)[before:]]
    body = json.loads(delivery.body)
    assert (body["EventId"], body["PrimaryKey"]) == (event["EventId"], event["PrimaryKey"])
    wait_until("the resent event delivered", lambda: outcomes(stack, hook_id) == ["Delivered"])


def test_recover_sends_every_failed_event_again(page, stack, rx):
    hook, path = failing_hook(stack, rx, "Recover me", count=2)
    hook_id = hook["WebhookId"]
    failed = events(stack, hook_id)
    signed_in(page, stack)
    open_hook(page, hook_id)
    page.click("#recover-form button[type=submit]")
    page.wait_for("document.getElementById('status').textContent !== ''")
    assert status_text(page) == "Webhook %d is TooManyErrors: set its State to Active first, then recover." % hook_id

    rx.respond(path, status=200)
    page.click("#hook-activate")
    page.wait_for("document.getElementById('hook-state').textContent === 'Active'")
    before = len(rx.requests(path))
    # The default is the last 24 hours, which holds both events.
    page.click("#recover-form button[type=submit]")
    page.wait_for("document.getElementById('status').textContent.startsWith('2 ')")
    assert status_text(page) == "2 failed deliveries are queued again; 0 remain for another Recover."
    got = rx.wait_for(before + 2, path)[before:]
    assert sorted((json.loads(r.body)["EventId"], json.loads(r.body)["PrimaryKey"]) for r in got) == \
        sorted((e["EventId"], e["PrimaryKey"]) for e in failed)
    wait_until("both recovered events delivered", lambda: outcomes(stack, hook_id) == ["Delivered", "Delivered"])


# -- 5. charts -------------------------------------------------------------------------------------

def chart_bars(page, container):
    """Each hour's title and the heights and bottoms of its two bars."""
    return page.js("""[...document.querySelectorAll('#%s g.hour')].map(g => {
        const ok = g.querySelector('.bar-ok'), failed = g.querySelector('.bar-failed');
        return [g.querySelector('title').textContent,
                ok.height.baseVal.value, failed.height.baseVal.value,
                ok.y.baseVal.value + ok.height.baseVal.value, failed.y.baseVal.value + failed.height.baseVal.value]; })"""
                   % container)


def assert_chart_matches(page, container, activity):
    items = activity["Items"]
    bars = chart_bars(page, container)
    assert len(items) == 24 == len(bars)
    assert [b[0] for b in bars] == ["%s UTC: %d succeeded, %d failed" % (i["Hour"], i["Succeeded"], i["Failed"])
                                    for i in items]
    peak = max(max(i["Succeeded"], i["Failed"]) for i in items)
    assert peak > 0
    scale = max(max(b[1], b[2]) for b in bars) / peak
    assert scale > 0
    baseline = bars[0][3]
    for (title, ok, failed, ok_bottom, failed_bottom), item in zip(bars, items):
        assert ok == pytest.approx(item["Succeeded"] * scale), title
        assert failed == pytest.approx(item["Failed"] * scale), title
        assert ok_bottom == pytest.approx(baseline) and failed_bottom == pytest.approx(baseline)
    ok, failed = activity_totals(activity)
    label = page.js("""(() => { const svg = document.querySelector('#%s svg');
        return svg.getAttribute('aria-labelledby').split(' ').map(id => document.getElementById(id).textContent); })()"""
                    % container)
    assert label[1] == "%d succeeded and %d failed attempts in the last 24 hours" % (ok, failed)


def test_the_charts_draw_the_activity(page, stack, scene):
    signed_in(page, stack)
    assert_chart_matches(page, "hooks-chart", api(stack, REST + "/Activity"))
    hook_id = scene["billing"]["WebhookId"]
    open_hook(page, hook_id)
    assert_chart_matches(page, "hook-chart", api(stack, "%s/%d/Activity" % (REST, hook_id)))


# -- 6. phone and accessibility --------------------------------------------------------------------

OVERFLOW = """(() => { const w = document.documentElement.clientWidth;
    // Sticking out of the page, or text sticking out of its own box (a long word in a cell).
    const wide = [...document.querySelectorAll('body *')].filter(e => e.getClientRects().length
        && !e.closest('.visually-hidden, thead') && (e.getBoundingClientRect().right > w + 0.5
        || (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible')));
    return [document.documentElement.scrollWidth, w, wide.slice(0, 5).map(e => e.tagName + '.' + e.className)]; })()"""


def test_a_phone_never_scrolls_sideways(page, stack, scene):
    page.resize(375, 740, mobile=True)
    sign_in(page, stack)
    page.wait_for("!document.getElementById('hooks-view').hidden")
    wait_rows_filled(page)
    assert page.js(OVERFLOW) == [375, 375, []]
    open_hook(page, scene["billing"]["WebhookId"])
    page.click("#log-table button.details")
    page.wait_for("document.querySelector('tr.detail')")
    assert page.js(OVERFLOW) == [375, 375, []]


A11Y_NAMED_ROLES = {"button", "link", "textbox", "combobox", "checkbox", "radio", "spinbutton", "image", "table"}


def assert_accessible(page, landmarks=("banner", "navigation", "main", "status")):
    nodes = [n for n in page.send("Accessibility.getFullAXTree")["nodes"] if not n.get("ignored")]
    roles = [n.get("role", {}).get("value") for n in nodes]
    for landmark in landmarks:
        assert landmark in roles, landmark
    for n in nodes:
        role = n.get("role", {}).get("value")
        if role in A11Y_NAMED_ROLES:
            assert n.get("name", {}).get("value", "").strip(), "a %s without a name: %r" % (role, n)
    # Every form control has a <label> (not only a name from somewhere else); tables have headers.
    assert page.js("""[...document.querySelectorAll('input, select, textarea')]
        .filter(e => e.labels.length === 0).map(e => e.id || e.name)""") == []
    assert page.js("""[...document.querySelectorAll('table')].filter(t => !t.hidden && t.getClientRects().length
        && t.querySelectorAll('thead th[scope=col]').length === 0).length""") == 0
    assert page.js("""[...document.querySelectorAll('svg')].filter(s => s.getAttribute('role') !== 'img'
        && s.getAttribute('aria-hidden') !== 'true').length""") == 0
    assert page.js("document.getElementById('status').getAttribute('aria-live')") == "polite"
    low = page.js(CONTRAST)
    assert low == [], "text below WCAG AA contrast: %s" % low


# The contrast of each visible text against the first opaque background behind it (WCAG 2
# relative luminance); 4.5:1, or 3:1 for large text.
CONTRAST = """(() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (e) => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
    if (c.length === 3 || c[3] === 1) return c.slice(0, 3); } return [255, 255, 255]; };
  const low = [];
  for (const e of document.querySelectorAll('body *')) {
    if (!e.getClientRects().length || e.closest('svg, .visually-hidden')) continue;
    if (![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const st = getComputedStyle(e);
    if (st.visibility === 'hidden') continue;
    const a = lum(rgb(st.color).slice(0, 3)), b = lum(background(e));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(st.fontSize), large = size >= 24 || (size >= 18.66 && Number(st.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) low.push(e.tagName + ' "' + e.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2));
  }
  return low; })()"""


def test_accessibility_basics(page, stack, scene):
    page.goto(stack.base_url + "/operator/")
    page.wait_for("!document.getElementById('sign-in-view').hidden")
    # The view's heading has focus; Tab goes on to the first control, whose focus is visible.
    assert page.js("document.activeElement.id") == "sign-in-title"
    page.press("Tab")
    assert page.js("[document.activeElement.name, document.activeElement.value]") == ["method", "password"]
    assert page.js("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.fill("#user", stack.user)
    page.fill("#password", "wrong")
    page.press("Enter")
    page.wait_for("document.getElementById('status').textContent !== ''")
    # Signed out, there is nothing to navigate to yet.
    assert_accessible(page, landmarks=("banner", "main", "status"))
    page.fill("#password", stack.password)
    page.press("Enter")
    page.wait_for("!document.getElementById('hooks-view').hidden")
    wait_rows_filled(page)
    assert_accessible(page)
    open_hook(page, scene["billing"]["WebhookId"])
    page.click("#log-table button.details")
    page.wait_for("document.querySelector('tr.detail')")
    assert_accessible(page)
    # The view's heading takes focus, so a screen reader starts there.
    page.js("location.hash = '#/'")
    page.wait_for("document.activeElement.id === 'hooks-title'")


# -- 7. controls -----------------------------------------------------------------------------------

def test_controls_are_saved_through_the_form(page, stack, scene):
    hook_id = scene["crm"]["WebhookId"]
    signed_in(page, stack)
    open_hook(page, hook_id)
    page.wait_for("!document.getElementById('controls-form').hidden")
    page.fill("#controls-rate", "5")
    page.click("#controls-ordered")
    page.click("#controls-form button[type=submit]")
    page.wait_for("document.getElementById('status').textContent !== ''")
    assert status_text(page) == "The controls of webhook %d are saved." % hook_id
    got = api(stack, "%s/%d/Controls" % (REST, hook_id))
    assert (got["RateLimit"], got["MaxInFlight"], got["Ordered"], got["Probe"]) == (5, None, True, False)
    page.fill("#controls-rate", "")
    page.click("#controls-ordered")
    page.click("#controls-form button[type=submit]")
    wait_until("RateLimit cleared", lambda: api(stack, "%s/%d/Controls" % (REST, hook_id))["RateLimit"] is None)


# -- screenshots -----------------------------------------------------------------------------------

def test_screenshots(page, stack, scene, screenshots):
    """The README's pictures: the list and a webhook with an expanded event, desktop and phone.
    Each is a PNG well under 200 KB."""
    shots = []
    signed_in(page, stack)
    for width, height, mobile, suffix in ((1280, 800, False, "desktop"), (375, 812, True, "phone")):
        page.resize(width, height, mobile)
        page.js("location.hash = '#/'")
        page.wait_for("!document.getElementById('hooks-view').hidden")
        wait_rows_filled(page)
        page.js("window.scrollTo(0, 0)")
        shots.append(("operator-list-%s.png" % suffix, page.screenshot(screenshots / ("operator-list-%s.png" % suffix))))
        open_hook(page, scene["billing"]["WebhookId"])
        page.click("#log-table button.details")
        page.wait_for("document.querySelector('tr.detail')")
        page.js("document.getElementById('log-title').scrollIntoView()")
        shots.append(("operator-webhook-%s.png" % suffix,
                      page.screenshot(screenshots / ("operator-webhook-%s.png" % suffix))))
    for name, size in shots:
        assert (screenshots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert 10_000 < size < 200_000, (name, size)
