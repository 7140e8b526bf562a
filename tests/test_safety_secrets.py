"""Credentials given with --auth or --header never leave the audited site or reach any output.

They must not appear in the store file's bytes, stdout/stderr (summary, errors), audit reports,
and must not be sent to other hosts: external links (--check-external), a robots.txt that
redirects to another host, redirect targets.
"""

from __future__ import annotations

import base64

import pytest
from chaos import ChaosServer, assert_clean_stderr, page, redirect, run_cli
from sitekit import html

pytestmark = pytest.mark.slow

PASSWORD = "hunter2-PW-9d1c"
TOKEN = "tok-BEARER-51ab"
COOKIE = "sid-COOKIE-77e0"
SECRETS = [PASSWORD, TOKEN, COOKIE, base64.b64encode(f"bob:{PASSWORD}".encode()).decode()]
CREDS = ["--auth", f"bob:{PASSWORD}", "-H", f"X-Api-Key: {TOKEN}", "-H", f"Cookie: session={COOKIE}"]


def assert_no_secret(text: str | bytes, where: str) -> None:
    data = text.encode() if isinstance(text, str) else text
    for secret in SECRETS:
        assert secret.encode() not in data, f"{secret!r} leaked into {where}"


class _Renamed:
    """A ChaosServer addressed as http://localhost:PORT (credentials are scoped by host name)."""

    def __init__(self, server: ChaosServer) -> None:
        self.routes = server.routes
        self._port = server.port

    def url(self, path: str) -> str:
        return f"http://localhost:{self._port}{path}"


def _sent_credentials(log) -> list[str]:
    return [r.path for r in log if "authorization" in r.headers or "x-api-key" in r.headers or "cookie" in r.headers]


@pytest.fixture(scope="module")
def crawl_with_secrets(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("secrets")
    with ChaosServer() as other_server, ChaosServer() as site:
        other = _Renamed(other_server)  # another host: localhost, not 127.0.0.1
        other.routes.update({"/robots.txt": page("User-agent: *\nAllow: /\n", content_type="text/plain"),
                             "/ext": page(html("External")), "/landing": page(html("Landing"))})
        site.routes.update({
            "/robots.txt": redirect(other.url("/robots.txt")),
            "/": page(html("Home", f'<a href="/a">a</a><a href="{other.url("/ext")}">ext</a><a href="/away">away</a>')),
            "/a": page(html("A")),
            "/away": redirect(other.url("/landing"), 302),
        })
        store = str(tmp / "secret.emaudit.db")
        text = run_cli(["crawl", site.url("/"), "--store", store, "--check-external", "--no-sitemaps", *CREDS],
                       cwd=str(tmp), deadline=30)
        as_json = run_cli(["crawl", site.url("/"), "--store", str(tmp / "secret2.emaudit.db"), "--format", "json",
                           "--no-sitemaps", *CREDS], cwd=str(tmp), deadline=30)
        site_log, other_log = site.log, other_server.log
    return tmp, store, text, as_json, site_log, other_log


def test_credentials_sent_to_the_site(crawl_with_secrets):
    *_, site_log, _ = crawl_with_secrets
    pages = [r for r in site_log if r.path in ("/", "/a")]
    assert pages and all(r.headers.get("x-api-key") == TOKEN and r.headers.get("authorization", "").startswith("Basic ")
                         and COOKIE in r.headers.get("cookie", "") for r in pages)


def test_credentials_never_sent_to_other_hosts(crawl_with_secrets):
    *_, other_log = crawl_with_secrets
    assert {r.path for r in other_log} >= {"/robots.txt", "/ext"}
    assert _sent_credentials(other_log) == []


def test_store_and_outputs_hold_no_secret(crawl_with_secrets):
    tmp, store, text, as_json, _, _ = crawl_with_secrets
    assert text.code == 0 and as_json.code == 0, text.err + as_json.err
    for path in tmp.iterdir():  # the stores, their -wal/-shm if any
        assert_no_secret(path.read_bytes(), path.name)
    for run, name in ((text, "crawl text"), (as_json, "crawl json")):
        assert_no_secret(run.out, name + " stdout")
        assert_no_secret(run.err, name + " stderr")


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_audit_reports_hold_no_secret(crawl_with_secrets, fmt):
    tmp, store, *_ = crawl_with_secrets
    run = run_cli(["audit", store, "--format", fmt, "--verbose"], cwd=str(tmp), deadline=60)
    assert run.code in (0, 1), run.err
    assert_no_secret(run.out, f"audit {fmt}")
    assert_no_secret(run.err, f"audit {fmt} stderr")


@pytest.mark.parametrize("bad", [
    ["-H", f"Authorization Bearer {TOKEN}"],  # missing colon
    ["-H", f"X Api Key: {TOKEN}"],  # space in the name
    ["--auth", f"{PASSWORD}"],  # no user:password
    ["--auth", f":{PASSWORD}"],  # empty user
])
def test_bad_credential_options_are_not_echoed(tmp_path, bad):
    run = run_cli(["crawl", "http://127.0.0.1:9/", "--store", str(tmp_path / "x.emaudit.db"), *bad],
                  cwd=str(tmp_path), deadline=30)
    assert run.code == 2, run.err
    assert "Traceback" not in run.err
    assert_no_secret(run.err, "usage error")
    assert_no_secret(run.out, "usage error stdout")


def test_unreachable_site_error_holds_no_secret(tmp_path):
    run = run_cli(["crawl", "http://127.0.0.1:9/", "--store", str(tmp_path / "y.emaudit.db"), "--timeout", "1",
                   "--retries", "0", *CREDS], cwd=str(tmp_path), deadline=30)
    assert run.code == 3, run.err
    assert_clean_stderr(run)
    assert_no_secret(run.err, "unreachable error")
    assert_no_secret((tmp_path / "y.emaudit.db").read_bytes(), "store")


def test_robots_command_keeps_headers_on_the_site(tmp_path):
    with ChaosServer() as other_server, ChaosServer() as site:
        other = _Renamed(other_server)
        other.routes["/robots.txt"] = page("User-agent: *\nDisallow: /x\n", content_type="text/plain")
        site.routes["/robots.txt"] = redirect(other.url("/robots.txt"))
        run = run_cli(["robots", site.url("/"), "/x", "-H", f"X-Api-Key: {TOKEN}", "--format", "json"],
                      cwd=str(tmp_path), deadline=30)
        assert run.code == 0, run.err
        assert site.log[0].headers.get("x-api-key") == TOKEN
        assert _sent_credentials(other_server.log) == []
    assert_no_secret(run.out + run.err, "robots output")
