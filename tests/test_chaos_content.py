"""Hostile page content: the extractor copes, facts stay bounded, the crawl goes on.

One crawl subprocess over a site whose home page links to each hostile page and to ordinary
pages; each case is one assertion on the stored page. A 10 MB single-line page of words is
crawled on its own, because it is the one that costs the extractor real memory.
"""

from __future__ import annotations

import os

import pytest
from chaos import ChaosServer, assert_clean_stderr, page, run_cli, stream, zeros
from sitekit import html

from emaudit.store import Store

pytestmark = pytest.mark.slow

DEADLINE = 60.0
MAX_RSS_MB = 250.0
N_LINKS = 100_000
TITLE_1MB = "T" * (1 << 20)


def _check_binary(p):
    assert p.facts.title is None


def _check_empty(p):
    assert p.facts.title is None and p.facts.word_count == 0 and p.url.bytes == 0


def _check_invalid_utf8(p):
    assert p.facts.decode_errors and "\ufffd" in p.facts.title and p.facts.title.startswith("caf")


def _check_nested(p):
    assert p.facts.title == "deep"


def _check_links(p):
    assert 0 < len(p.facts.refs) <= N_LINKS


def _check_title(p):
    assert p.facts.title.startswith("TTTT") and len(p.facts.title) <= 100_000  # stored bounded


def _check_unclosed(p):
    assert p.facts.title == "unclosed"


CASES = {
    "/binary-as-html": (page(os.urandom(1_000_000)), _check_binary),
    "/zero-bytes": (page(b""), _check_empty),
    "/invalid-utf8": (page(b"<html><head><meta charset=utf-8><title>caf\xe9 \xff\xfe\xc3\x28</title></head>"
                           b"<body>\xa0\xa1 text \xed\xa0\x80</body></html>"), _check_invalid_utf8),
    "/nested-100k": (page(b"<html><head><title>deep</title></head><body>" + b"<div>" * 100_000 + b"x"
                          + b"</div>" * 100_000 + b"</body></html>"), _check_nested),
    "/links-100k": (page(b"<html><head><title>links</title></head><body>"
                         + b"".join(b'<a href="/many/%d">l%d</a>' % (i, i) for i in range(N_LINKS))
                         + b"</body></html>"), _check_links),
    "/title-1mb": (page(html(TITLE_1MB, "<p>x</p>")), _check_title),
    "/unclosed-200k": (page(b"<title>unclosed</title>" + b"<b><i><table><tr><td>" * 40_000), _check_unclosed),
}
NORMAL = ["/ok/1", "/ok/2"]


@pytest.fixture(scope="module")
def content_crawl(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chaos-content")
    links = "".join(f'<a href="{p}">{p}</a>' for p in [*CASES, *NORMAL])
    routes = {path: route for path, (route, _) in CASES.items()}
    routes["/"] = page(html("Home", links))
    for p in NORMAL:
        routes[p] = page(html(f"Normal {p}", '<a href="/">home</a>'))
    with ChaosServer(routes) as srv:
        store = str(tmp / "content.emaudit.db")
        # --max-pages: the 100k link targets are recorded, not all crawled.
        run = run_cli(["crawl", srv.url("/"), "--store", store, "--timeout", "5", "--retries", "0", "--no-sitemaps",
                       "--max-pages", "15", "--format", "json"], cwd=str(tmp), deadline=DEADLINE)
        base = srv.base
    yield run, store, base


def test_crawl_ends_cleanly(content_crawl):
    run, _, _ = content_crawl
    assert not run.timed_out and run.code == 0, run.err
    assert_clean_stderr(run)
    print(f"peak RSS {run.maxrss_mb:.0f} MB, {run.elapsed:.1f} s")
    assert 0 < run.maxrss_mb < MAX_RSS_MB


def test_other_pages_crawled(content_crawl):
    _, store, base = content_crawl
    with Store.open(store) as st:
        for p in ["/", *NORMAL]:
            assert st.get(base + p).status == 200
            assert st.page(base + p) is not None
        assert st.query("SELECT COUNT(*) FROM urls WHERE url LIKE '%/many/%'")[0][0] > 1000


@pytest.mark.parametrize("path", list(CASES))
def test_page_parsed_and_bounded(content_crawl, path):
    _, store, base = content_crawl
    with Store.open(store) as st:
        rec = st.get(base + path)
        assert (rec.state, rec.status, rec.error_kind) == ("done", 200, None), rec.error
        p = st.page(base + path)
        assert p is not None, path
        CASES[path][1](p)
        facts_size = st.query("SELECT length(facts) FROM pages WHERE url_id = ?", (rec.id,))[0][0]
    assert facts_size < 500_000, facts_size


def test_10mb_single_line_of_words(tmp_path):
    body = zeros(9_500_000, prefix=b"<html><head><title>line</title></head><body><p>", fill=b"word ")
    routes = {"/": page(html("Home", '<a href="/line">line</a><a href="/ok">ok</a>')),
              "/line": stream(body, length=9_500_000 + 47), "/ok": page(html("OK"))}
    with ChaosServer(routes) as srv:
        store = str(tmp_path / "line.emaudit.db")
        run = run_cli(["crawl", srv.url("/"), "--store", store, "--no-sitemaps", "--format", "json"],
                      cwd=str(tmp_path), deadline=DEADLINE)
        with Store.open(store) as st:
            assert st.page(srv.url("/line")).facts.title == "line"
            assert st.get(srv.url("/ok")).status == 200
    assert not run.timed_out and run.code == 0, run.err
    assert_clean_stderr(run)
    print(f"peak RSS {run.maxrss_mb:.0f} MB, {run.elapsed:.1f} s")
    assert run.maxrss_mb < MAX_RSS_MB, f"peak RSS {run.maxrss_mb:.0f} MB"
