"""The operator page's files as nginx serves them at /operator/ (deploy/nginx/webhookd.conf):
their exact types, the security headers of that location only, revalidation, JSON errors around
them, and what the files themselves must hold to work under that policy (no inline script or
style, no HTML built from strings) and to be installed (Makefile.am lists every one).

The page's behaviour in a browser is tested in tests/browser."""
import re

import pytest

from e2e_support import REPO, error_body

WWW = REPO / "www"
FILES = sorted(p.relative_to(WWW).as_posix() for p in WWW.rglob("*") if p.is_file())
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml; charset=utf-8"}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
NOT_FOUND = error_body("NotFound", "There is no API endpoint at this path.", "nginx")


def test_the_page_has_files():
    assert {"index.html", "operator.css", "js/main.js"} <= set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_each_file_is_served_with_its_type_and_the_page_headers(stack, name):
    r = stack.request("GET", "/operator/" + name)
    assert r.status == 200, r
    assert r.body == (WWW / name).read_bytes()
    suffix = "." + name.rsplit(".", 1)[1]
    assert r.headers["content-type"] == TYPES[suffix]
    assert r.header_values("content-security-policy") == [CSP]
    assert r.header_values("x-content-type-options") == ["nosniff"]
    assert r.header_values("referrer-policy") == ["no-referrer"]
    assert r.header_values("cache-control") == ["no-cache"]
    assert r.headers["etag"]


def test_the_folder_serves_index_html(stack):
    r = stack.request("GET", "/operator/")
    assert (r.status, r.headers["content-type"]) == (200, "text/html; charset=utf-8")
    assert r.body == (WWW / "index.html").read_bytes()
    assert r.header_values("content-security-policy") == [CSP]


def test_without_the_slash_is_a_relative_redirect(stack):
    r = stack.request("GET", "/operator")
    assert (r.status, r.headers["location"]) == (301, "/operator/")


def test_a_revalidation_is_a_304(stack):
    etag = stack.request("GET", "/operator/js/main.js").headers["etag"]
    r = stack.request("GET", "/operator/js/main.js", headers={"If-None-Match": etag})
    assert (r.status, r.body) == (304, b"")


@pytest.mark.parametrize("path", ["/operator/nothing.js", "/operator/js/", "/operator/.git/config",
                                  "/operator/../deploy/nginx/webhookd.conf"])
def test_what_is_not_a_page_file_is_a_json_404(stack, path):
    r = stack.request("GET", path)
    assert (r.status, r.headers["content-type"], r.body) == (404, "application/json; charset=utf-8", NOT_FOUND)
    assert "content-security-policy" not in r.headers


def test_other_methods_are_a_json_405(stack):
    r = stack.request("POST", "/operator/", body=b"x=1")
    assert (r.status, r.headers["content-type"]) == (405, "application/json; charset=utf-8")
    assert r.json()["ErrorType"] == "MethodNotAllowed"


def test_the_api_keeps_its_own_headers(stack):
    """The page's headers belong to its location: API answers carry none of them."""
    r = stack.post()
    assert r.status == 200
    for name in ("content-security-policy", "referrer-policy", "cache-control"):
        assert name not in r.headers


def test_the_html_runs_under_the_policy():
    """script-src 'self' and style-src 'self' refuse inline code: the page has none."""
    html = (WWW / "index.html").read_text()
    assert re.findall(r"<script\b[^>]*>", html) == ['<script type="module" src="js/main.js">']
    assert re.search(r"<script[^>]*>\s*[^<\s]", html) is None
    assert "<style" not in html and " style=" not in html
    assert re.search(r"\son[a-z]+=", html) is None


@pytest.mark.parametrize("name", [f for f in FILES if f.endswith(".js")])
def test_scripts_never_parse_data_as_html(name):
    text = (WWW / name).read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in text, "%s uses %s" % (name, sink)


def test_every_file_is_installed():
    """make install (and so distcheck and packages) carries exactly the files in www/."""
    makefile = (REPO / "Makefile.am").read_text().replace("\\\n", " ")
    listed = set()
    for var in ("dist_www_DATA", "dist_wwwjs_DATA"):
        listed |= set(re.search(r"^%s = (.*)$" % var, makefile, re.M).group(1).split())
    assert listed == {"www/" + f for f in FILES}
