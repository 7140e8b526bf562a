"""Hostile redirects: odd Location values are recorded (never fetched), chains and loops end."""

from __future__ import annotations

import time

import pytest
from chaos import ChaosServer, page, redirect
from sitekit import html

from emaudit.crawler import CrawlOptions, run_crawl
from emaudit.store import Store

pytestmark = pytest.mark.slow

HOPS = 20


def _crawl(start: str, path: str, **kw):
    opts = CrawlOptions(start_url=start, store_path=path, sitemaps=False, timeout=1, retries=0, max_time=20, **kw)
    started = time.monotonic()
    summary = run_crawl(opts, handle_signals=False)
    assert time.monotonic() - started < 15
    assert summary.stop_reason is None, summary  # ended by itself, not by --max-time
    return summary


@pytest.fixture(scope="module")
def redirects(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chaos-redirects")
    with ChaosServer() as a, ChaosServer() as b:
        odd = {
            "/r/ftp": "ftp://files.example/report.pdf",
            "/r/file": "file:///etc/passwd",
            "/r/js": "javascript:alert(document.cookie)",
            "/r/data": "data:text/html,<script>alert(1)</script>",
            "/r/empty": "",
            "/r/relative": "../ok/1",
            "/r/cross-scheme": f"https://127.0.0.1:{a.port}/ok/1",
            "/r/two-hosts": b.url("/back"),
        }
        for path, loc in odd.items():
            a.routes[path] = redirect(loc)
        for i in range(HOPS):
            a.routes[f"/chain/{i}"] = redirect(f"/chain/{i + 1}", 302)
        a.routes[f"/chain/{HOPS}"] = page(html("End of chain"))
        b.routes["/back"] = redirect(a.url("/r/two-hosts"))
        a.routes["/ok/1"] = page(html("OK 1"))
        a.routes["/ok/2"] = page(html("OK 2"))
        links = "".join(f'<a href="{p}">{p}</a>' for p in [*odd, "/chain/0", "/ok/2"])
        a.routes["/"] = page(html("Home", links))
        path = str(tmp / "redirects.emaudit.db")
        _crawl(a.url("/"), path, check_external=True)
        log_a, log_b = a.paths(), b.paths()
        store = Store.open(path)
        try:
            yield store, a.base, log_a, log_b
        finally:
            store.close()


@pytest.mark.parametrize("path, location", [
    ("/r/ftp", "ftp://files.example/report.pdf"),
    ("/r/file", "file:///etc/passwd"),
    ("/r/js", "javascript:alert(document.cookie)"),
    ("/r/data", "data:text/html,<script>alert(1)</script>"),
    ("/r/empty", ""),
])
def test_non_http_location_recorded_not_fetched(redirects, path, location):
    store, base, _, _ = redirects
    rec = store.get(base + path)
    assert (rec.state, rec.status, rec.location, rec.error_kind) == ("done", 301, location, None)
    target = store.get(location) if location else None
    if path in ("/r/ftp", "/r/file"):
        assert target is not None and target.state == "not_http" and target.status is None
    else:
        assert target is None and rec.redirect_id is None


def test_relative_location_followed(redirects):
    store, base, _, _ = redirects
    rec = store.get(base + "/r/relative")
    assert rec.location == "../ok/1" and rec.final_status == 200
    assert rec.final_id == store.get(base + "/ok/1").id


def test_cross_scheme_redirect_recorded_as_external(redirects):
    store, base, _, _ = redirects
    rec = store.get(base + "/r/cross-scheme")
    target = store.get(rec.location)
    assert target.internal is False and target.state in ("external", "done")


def test_twenty_hop_chain_stops_at_the_hop_budget(redirects):
    store, base, log, _ = redirects
    fetched = [p for p in log if p.startswith("/chain/")]
    assert len(fetched) == len(set(fetched)) <= 12
    assert f"/chain/{HOPS}" not in fetched
    limited = [r for r in store.iter_urls(state="skipped") if r.skip_reason == "redirect_limit"]
    assert len(limited) == 1 and "/chain/" in limited[0].url
    first = store.get(base + "/chain/0")
    assert first.redirect_hops >= 10 and first.final_status is None


def test_loop_through_two_hosts_ends_and_is_flagged(redirects):
    store, base, log_a, log_b = redirects
    assert log_a.count("/r/two-hosts") == 1 and log_b.count("/back") == 1
    assert store.get(base + "/r/two-hosts").redirect_loop is True


def test_other_pages_crawled(redirects):
    store, base, _, _ = redirects
    assert store.get(base + "/ok/2").status == 200
    assert store.page(base + "/").facts.title == "Home"
