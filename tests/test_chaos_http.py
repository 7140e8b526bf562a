"""Hostile transports: the crawl ends in time, records each problem on its URL, crawls the rest.

One crawl subprocess (``--timeout 1 --retries 0``) over a site whose home page links to every
misbehaving URL and to ordinary pages; each case is then one assertion on the store. Bodies are
cheap to parse (few words) so that this file measures the transport; wordy 10 MB pages are in
``test_chaos_content.py``.
"""

from __future__ import annotations

import pytest
from chaos import (
    ChaosServer,
    assert_clean_stderr,
    close_silently,
    drip,
    drip_headers,
    endless,
    garbage,
    gzip_bomb,
    lying_length,
    page,
    reset_mid_body,
    run_cli,
    slow_headers,
    stream,
    zeros,
)
from sitekit import html

from emaudit.store import Store

pytestmark = pytest.mark.slow

HUGE = 200 * 1024 * 1024
DEADLINE = 40.0  # the crawl itself takes ~4 s; a hang is killed here
MAX_RSS_MB = 200.0  # a 200 MB body, a 1 GiB bomb or an endless stream must not be held

CASES = {
    # path: (route, expected (status, error_kind, truncated))
    "/slow-headers": (slow_headers(30), (None, "timeout", False)),
    "/drip": (drip("<title>drip</title>" + "x" * 200, 0.2), (None, "timeout", False)),
    "/drip-headers": (drip_headers(0.2), (None, "timeout", False)),
    "/huge": (stream(zeros(HUGE, prefix=b"<title>huge</title>"), length=HUGE + 19), (200, None, True)),
    "/gzip-bomb": (stream(gzip_bomb(), headers={"Content-Encoding": "gzip"}), (200, None, True)),
    "/endless-chunked": (stream(endless(b"<!-- " + b"-" * 65000 + b" -->"), chunked=True), (200, None, True)),
    "/lying-longer": (lying_length("<title>short</title>", 100_000), (None, "reset", False)),
    "/lying-shorter": (lying_length("<title>long body</title><p>" + "y" * 1000, 10), (200, None, False)),
    "/reset-mid-body": (reset_mid_body("<title>reset</title>" + "z" * 100_000, 5000), (None, "reset", False)),
    "/empty-reply": (close_silently, (None, "reset", False)),
    "/not-http": (garbage, (None, "*", False)),
}
NORMAL = ["/ok/1", "/ok/2", "/ok/3"]


@pytest.fixture(scope="module")
def chaos_crawl(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chaos-http")
    links = "".join(f'<a href="{p}">{p}</a>' for p in [*CASES, *NORMAL])
    routes = {path: route for path, (route, _) in CASES.items()}
    routes["/"] = page(html("Home", links))
    for i, p in enumerate(NORMAL):
        routes[p] = page(html(f"Normal {i}", '<a href="/">home</a>'))
    with ChaosServer(routes) as srv:
        store = str(tmp / "chaos.emaudit.db")
        run = run_cli(["crawl", srv.url("/"), "--store", store, "--timeout", "1", "--retries", "0",
                       "--no-sitemaps", "--concurrency", "8", "--format", "json"], cwd=str(tmp), deadline=DEADLINE)
        base = srv.base
    yield run, store, base


def test_crawl_finishes_in_time_without_traceback(chaos_crawl):
    run, _, _ = chaos_crawl
    assert not run.timed_out, f"crawl still running after {DEADLINE} s"
    assert run.code == 0, run.err
    assert_clean_stderr(run)
    assert run.json()["state"] == "finished"
    assert run.elapsed < 20, run.elapsed


def test_memory_stays_bounded(chaos_crawl):
    run, _, _ = chaos_crawl
    print(f"peak RSS {run.maxrss_mb:.0f} MB, {run.elapsed:.1f} s")
    assert 0 < run.maxrss_mb < MAX_RSS_MB, f"peak RSS {run.maxrss_mb:.0f} MB"


def test_normal_pages_still_crawled(chaos_crawl):
    _, store, base = chaos_crawl
    with Store.open(store) as st:
        for p in ["/", *NORMAL]:
            rec = st.get(base + p)
            assert (rec.state, rec.status) == ("done", 200), p
            assert st.page(base + p) is not None


@pytest.mark.parametrize("path", list(CASES))
def test_problem_recorded_on_url(chaos_crawl, path):
    _, store, base = chaos_crawl
    status, error_kind, truncated = CASES[path][1]
    with Store.open(store) as st:
        rec = st.get(base + path)
    assert rec is not None and rec.state == "done", path
    assert rec.status == status, (rec.status, rec.error_kind, rec.error)
    if error_kind == "*":
        assert rec.error_kind is not None and rec.error
    else:
        assert rec.error_kind == error_kind, (rec.error_kind, rec.error)
    assert rec.truncated is truncated
    if truncated:
        assert rec.bytes == 10_000_000  # the default --max-bytes cap (10MB), on the decoded size


def test_truncated_html_is_still_parsed(chaos_crawl):
    _, store, base = chaos_crawl
    with Store.open(store) as st:
        assert st.page(base + "/huge").facts.title == "huge"


def test_max_time_stops_a_slow_site(tmp_path):
    """Every page answers after 0.4 s: --max-time 2 ends the crawl (saved, resumable) in time."""
    routes = {f"/s/{i}": slow_headers(0.4) for i in range(60)}
    routes["/"] = page(html("Home", "".join(f'<a href="/s/{i}">{i}</a>' for i in range(60))))
    with ChaosServer(routes) as srv:
        store = str(tmp_path / "slow.emaudit.db")
        run = run_cli(["crawl", srv.url("/"), "--store", store, "--max-time", "2", "--concurrency", "2",
                       "--no-sitemaps", "--format", "json"], cwd=str(tmp_path), deadline=30)
    assert not run.timed_out and run.code == 0, run.err
    assert_clean_stderr(run)
    doc = run.json()
    assert (doc["state"], doc["stop_reason"]) == ("stopped", "max_time")
    assert run.elapsed < 8, run.elapsed
    assert doc["queued"] > 0
    with Store.open(store) as st:
        assert st.run_info()["state"] == "stopped"
        assert st.query("SELECT COUNT(*) FROM urls WHERE state = 'fetching'")[0][0] == 0


def test_server_that_closes_right_after_accept(tmp_path):
    """As an external link (--check-external): recorded as an error; as the start URL: exit 3."""
    with ChaosServer(on_accept="close") as dead, ChaosServer() as srv:
        srv.routes["/"] = page(html("Home", f'<a href="{dead.url("/x")}">dead</a><a href="/ok">ok</a>'))
        srv.routes["/ok"] = page(html("OK"))
        store = str(tmp_path / "ext.emaudit.db")
        run = run_cli(["crawl", srv.url("/"), "--store", store, "--check-external", "--timeout", "1",
                       "--retries", "0", "--no-sitemaps", "--format", "json"], cwd=str(tmp_path), deadline=30)
        assert run.code == 0 and not run.timed_out, run.err
        assert_clean_stderr(run)
        with Store.open(store) as st:
            rec = st.get(dead.url("/x"))
            assert (rec.state, rec.status, rec.error_kind) == ("done", None, "reset"), rec.error
            assert st.get(srv.url("/ok")).status == 200
        start = run_cli(["crawl", dead.url("/"), "--store", str(tmp_path / "dead.emaudit.db"), "--timeout", "1",
                         "--retries", "0", "--no-sitemaps"], cwd=str(tmp_path), deadline=30)
    assert start.code == 3, start.err
    assert_clean_stderr(start)
    assert start.err.startswith("emaudit: error:") and "cannot reach" in start.err, start.err
