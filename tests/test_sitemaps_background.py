"""Sitemaps are read while the crawl runs: a slow or dead sitemap does not hold the first pages,
the crawl still ends only once they are read, and sitemap-only URLs still come last."""

from __future__ import annotations

import threading
import time

import pytest
from chaos import ChaosServer, Conn, page
from sitekit import html

from emaudit.crawler import Crawler, CrawlOptions, run_crawl
from emaudit.errors import StoreWriteError
from emaudit.store import Store

SITEMAP_DELAY = 1.5


def _urlset(*locs: str) -> bytes:
    items = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'.encode()


def _slow_sitemap(srv: ChaosServer, delay: float, *, first_only: bool = False):
    """/sitemap.xml answering after ``delay`` s (only on its first request with ``first_only``)."""
    served = threading.Event()

    def handler(conn: Conn) -> None:
        if not (first_only and served.is_set()):
            served.set()
            if not conn.sleep(delay):
                return
        page(_urlset(srv.url("/a"), srv.url("/orphan")), content_type="application/xml")(conn)

    return handler


def _site(srv: ChaosServer, sitemap) -> None:
    srv.routes.update({
        "/robots.txt": page(f"User-agent: *\nAllow: /\nSitemap: {srv.url('/sitemap.xml')}\n", content_type="text/plain"),
        "/": page(html("Home", '<a href="/a">a</a> <a href="/b">b</a>')),
        "/a": page(html("A", '<a href="/">home</a>')),
        "/b": page(html("B", '<a href="/">home</a>')),
        "/orphan": page(html("Orphan", '<a href="/">home</a>')),
        "/sitemap.xml": sitemap,
    })


def _options(srv: ChaosServer, path: str, **kw) -> CrawlOptions:
    kw.setdefault("max_time", 30)
    return CrawlOptions(start_url=srv.url("/"), store_path=path, timeout=5, retries=0, **kw)


def test_pages_are_fetched_while_a_slow_sitemap_is_read(tmp_path):
    path = str(tmp_path / "s.emaudit.db")
    with ChaosServer() as srv:
        _site(srv, _slow_sitemap(srv, SITEMAP_DELAY))
        started = time.time()
        summary = run_crawl(_options(srv, path), handle_signals=False)
        log = srv.paths()
    assert summary.state == "finished"
    with Store.open(path) as st:
        sitemap = {m["url"]: m for m in st.iter_sitemaps()}[srv.url("/sitemap.xml")]
        linked = [st.get(srv.url(p)) for p in ("/", "/a", "/b")]
        orphan = st.get(srv.url("/orphan"))
        in_sitemap = st.get(srv.url("/a")).in_sitemap
        fetched_at = dict(st.query("SELECT url, fetched_at FROM urls WHERE fetched_at IS NOT NULL"))
        sitemap_read_at = st.query("SELECT fetched_at FROM sitemaps WHERE url = ?", (sitemap["url"],))[0][0]
    assert sitemap["kind"] == "urlset" and sitemap["url_count"] == 2
    # The linked pages were all fetched before the sitemap had even answered …
    assert all(u.state == "done" and u.status == 200 for u in linked)
    assert max(fetched_at[u.url] for u in linked) < started + SITEMAP_DELAY <= sitemap_read_at
    # … and the crawl still waited for it: the sitemap-only URL is crawled, last, as an orphan.
    assert orphan.state == "done" and orphan.source_kind == "sitemap" and orphan.depth is None
    assert fetched_at[orphan.url] >= sitemap_read_at
    assert log.index("/orphan") > max(log.index(p) for p in ("/", "/a", "/b"))
    assert in_sitemap  # a URL found by a link first is still marked as listed in the sitemap


def test_a_stop_while_sitemaps_load_is_prompt_and_resume_reads_them(tmp_path):
    path = str(tmp_path / "r.emaudit.db")
    with ChaosServer() as srv:
        _site(srv, _slow_sitemap(srv, 20, first_only=True))
        started = time.monotonic()
        first = run_crawl(_options(srv, path, max_time=1.0), handle_signals=False)
        stopped_after = time.monotonic() - started
        with Store.open(path) as st:
            assert st.get_meta("sitemaps_done") is None
            assert list(st.iter_sitemaps()) == []
            assert st.get(srv.url("/a")).state == "done"  # the links were crawled meanwhile
        resumed = run_crawl(_options(srv, ""), resume=path, handle_signals=False)
    assert first.state == "stopped" and stopped_after < 10  # not held by the 20 s sitemap
    assert resumed.state == "finished"
    with Store.open(path) as st:
        assert st.get_meta("sitemaps_done") == "1"
        assert st.get(srv.url("/orphan")).state == "done"


def test_max_pages_still_records_every_sitemap_entry(tmp_path):
    path = str(tmp_path / "m.emaudit.db")
    with ChaosServer() as srv:
        _site(srv, _slow_sitemap(srv, 0.5))
        summary = run_crawl(_options(srv, path, max_pages=1), handle_signals=False)
    assert summary.state == "stopped" and summary.stop_reason == "max_pages"
    with Store.open(path) as st:
        assert st.get_meta("sitemaps_done") == "1"
        orphan = st.get(srv.url("/orphan"))
        assert orphan.in_sitemap and orphan.state == "queued"


def test_a_sitemap_reader_failure_ends_the_crawl_with_its_error(tmp_path, monkeypatch):
    async def broken(self, robots):
        raise StoreWriteError("cannot write the crawl store: disk full")

    monkeypatch.setattr(Crawler, "load_sitemaps", broken)
    with ChaosServer() as srv:
        _site(srv, _slow_sitemap(srv, 0))
        with pytest.raises(StoreWriteError, match="disk full"):
            run_crawl(_options(srv, str(tmp_path / "f.emaudit.db")), handle_signals=False)
