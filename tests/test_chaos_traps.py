"""Crawler traps end by themselves: --max-depth, --max-url-length and the per-pattern chain cap."""

from __future__ import annotations

import re
import secrets
import time

import pytest
from chaos import ChaosServer, Conn, page
from sitekit import html

from emaudit.crawler import CrawlOptions, run_crawl
from emaudit.store import Store

pytestmark = pytest.mark.slow


def calendar(conn: Conn) -> None:
    """/cal/YYYY/MM links to the next month, forever."""
    m = re.match(r"/cal/(\d+)/(\d+)", conn.path)
    year, month = (int(m.group(1)), int(m.group(2))) if m else (2025, 1)
    nxt = (year + month // 12, month % 12 + 1)
    page(html(f"Calendar {year}-{month:02d}", f'<a href="/cal/{nxt[0]}/{nxt[1]:02d}">next</a><a href="/ok">ok</a>'))(conn)


def growing_query(conn: Conn) -> None:
    """Every page links to itself with one more parameter."""
    query = conn.path.partition("?")[2]
    n = query.count("&") + 1 if query else 0
    link = "/grow?" + (query + "&" if query else "") + f"p{n}=x"
    page(html(f"Grow {n}", f'<a href="{link}">more</a>'))(conn)


def session_ids(conn: Conn) -> None:
    """A fresh session id in every link (the page is the same)."""
    page(html("Shop", f'<a href="/shop?sid={secrets.token_hex(8)}">shop</a>'))(conn)


def _site() -> dict:
    return {
        "/": page(html("Home", '<a href="/cal/2025/01">cal</a><a href="/grow">grow</a><a href="/shop">shop</a>'
                               '<a href="/ok">ok</a>')),
        "/cal": calendar, "/grow": growing_query, "/shop": session_ids, "/ok": page(html("OK")),
    }


def _routes_for(srv: ChaosServer) -> None:
    srv.routes.update(_site())
    for year in range(2025, 2040):  # /cal/YYYY/MM: every month a route of the generator
        for month in range(1, 13):
            srv.routes[f"/cal/{year}/{month:02d}"] = calendar


def _crawl(tmp_path, **kw):
    with ChaosServer() as srv:
        _routes_for(srv)
        path = str(tmp_path / "trap.emaudit.db")
        started = time.monotonic()
        summary = run_crawl(CrawlOptions(start_url=srv.url("/"), store_path=path, sitemaps=False, max_time=30, **kw),
                            handle_signals=False)
        elapsed = time.monotonic() - started
        log = srv.paths()
    assert summary.stop_reason is None, summary  # ended by itself
    assert elapsed < 20
    return Store.open(path), srv.base, log


def _count(log, prefix):
    return len([p for p in log if p.startswith(prefix)])


def test_pattern_chain_cap_stops_calendar_and_session_ids(tmp_path):
    store, base, log = _crawl(tmp_path, max_pattern_chain=8, max_url_length=300)
    with store:
        assert _count(log, "/cal/") <= 10 and _count(log, "/shop") <= 10
        traps = [r.url for r in store.iter_urls(state="skipped") if r.skip_reason == "crawler_trap"]
        assert any("/cal/" in u for u in traps) and any("/shop?sid=" in u for u in traps)
        assert store.get(base + "/ok").status == 200


def test_max_url_length_stops_growing_query(tmp_path):
    store, base, log = _crawl(tmp_path, max_pattern_chain=8, max_url_length=200)
    with store:
        assert 5 < _count(log, "/grow") < 40
        too_long = [r for r in store.iter_urls(state="skipped") if r.skip_reason == "url_too_long"]
        assert len(too_long) == 1 and too_long[0].url.startswith(base + "/grow?")
        assert len(max((p for p in log if p.startswith("/grow")), key=len)) <= 200


def test_max_depth_stops_every_trap(tmp_path):
    store, base, log = _crawl(tmp_path, max_depth=4, max_url_length=100_000)
    with store:
        assert _count(log, "/cal/") == 4 and _count(log, "/shop") == 4 and _count(log, "/grow") == 4
        assert {r.skip_reason for r in store.iter_urls(state="skipped")} == {"max_depth"}


def test_default_guards_alone_end_the_traps(tmp_path):
    """No option given: the default pattern chain (100) and URL length (2048) still end it."""
    store, base, log = _crawl(tmp_path)
    with store:
        assert _count(log, "/cal/") <= 102 and _count(log, "/shop") <= 102
        assert _count(log, "/grow") < 400
        assert store.get(base + "/ok").status == 200
