"""Hostile robots.txt and sitemaps: RFC 9309 fallbacks, bounded reads, no XML expansion."""

from __future__ import annotations

import pytest
from chaos import ChaosServer, assert_clean_stderr, gzip_bomb, page, redirect, run_cli, stream, zeros
from sitekit import html

from emaudit.crawler import CrawlOptions, run_crawl
from emaudit.store import Store

pytestmark = pytest.mark.slow

MAX_RSS_MB = 250.0
ROBOTS_PARSED = 500 * 1024
SECRET = "CHAOS-XXE-SECRET-7f3a"


def _home(*paths: str) -> object:
    return page(html("Home", "".join(f'<a href="{p}">{p}</a>' for p in paths)))


def _crawl(url: str, path: str, **kw):
    return run_crawl(CrawlOptions(start_url=url, store_path=path, sitemaps=False, timeout=2, retries=0,
                                  max_time=20, **kw), handle_signals=False)


# ---------------------------------------------------------------------- robots.txt
def test_robots_5xx_means_fully_disallowed(tmp_path):
    with ChaosServer({"/robots.txt": page("oops", 500, content_type="text/plain"), "/": _home("/a")}) as srv:
        run = run_cli(["crawl", srv.url("/"), "--store", str(tmp_path / "r.emaudit.db"), "--no-sitemaps",
                       "--retries", "0"], cwd=str(tmp_path), deadline=30)
        log = srv.paths()
    assert run.code == 3, run.err
    assert_clean_stderr(run)
    assert "robots.txt disallows the start URL" in run.err
    assert log == ["/robots.txt"]
    with Store.open(str(tmp_path / "r.emaudit.db")) as st:
        assert st.get(srv.url("/")).state == "blocked"


def test_robots_10mb_only_first_500kib_parsed(tmp_path):
    head = b"User-agent: *\nDisallow: /early\n"
    size = 10 * 1024 * 1024
    tail = b"Disallow: /late\n"
    robots = stream(lambda: iter([*zeros(size, prefix=head, fill=b"# padding line\n")(), tail]),
                    content_type="text/plain", length=len(head) + size + len(tail))
    with ChaosServer({"/robots.txt": robots, "/": _home("/early", "/late")}) as srv:
        path = str(tmp_path / "big.emaudit.db")
        summary = _crawl(srv.url("/"), path)
        log = srv.paths()
    assert summary.state == "finished"
    assert "/early" not in log and "/late" in log
    with Store.open(path) as st:
        origin = st.robots_for(srv.base)
        assert origin["truncated"] and len(origin["body"].encode()) <= ROBOTS_PARSED
        assert st.get(srv.url("/early")).state == "blocked"


def test_robots_redirect_to_another_host_is_followed(tmp_path):
    with ChaosServer() as other, ChaosServer() as srv:
        other.routes["/robots.txt"] = page("User-agent: *\nDisallow: /private\n", content_type="text/plain")
        srv.routes.update({"/robots.txt": redirect(other.url("/robots.txt")), "/": _home("/private", "/public"),
                           "/public": page(html("Public"))})
        path = str(tmp_path / "redir.emaudit.db")
        _crawl(srv.url("/"), path)
        log = srv.paths()
    assert "/private" not in log and "/public" in log
    with Store.open(path) as st:
        assert st.get(srv.url("/private")).state == "blocked"
        assert st.robots_for(srv.base)["final_url"] == other.url("/robots.txt")


def test_robots_html_instead_of_text_allows_crawl(tmp_path):
    soft404 = html("Page not found", "<p>Sorry. Disallow: / is not a rule here</p>")
    with ChaosServer({"/robots.txt": page(soft404), "/": _home("/a"), "/a": page(html("A"))}) as srv:
        path = str(tmp_path / "html.emaudit.db")
        summary = _crawl(srv.url("/"), path)
        log = srv.paths()
    assert summary.state == "finished" and "/a" in log


# ---------------------------------------------------------------------- sitemaps
def _urlset(base: str, n: int) -> bytes:
    head = b'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    body = b"".join(b"<url><loc>%s/s/%d</loc></url>" % (base.encode(), i) for i in range(n))
    return head + body + b"</urlset>"


def _index(*locs: str) -> bytes:
    items = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'.encode()


def _xxe(secret_file: str, probe: str) -> bytes:
    return (f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY file SYSTEM "file://{secret_file}">'
            f'<!ENTITY net SYSTEM "{probe}">]>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            '<url><loc>http://x.example/&file;</loc></url><url><loc>http://x.example/&net;</loc></url></urlset>').encode()


LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
          + b']><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://x.example/&lol9;</loc></url></urlset>')

SITEMAPS = ["/malformed.xml", "/index.xml", "/big.xml", "/bomb.xml.gz", "/bomb-ce.xml", "/xxe.xml", "/laughs.xml"]


@pytest.fixture(scope="module")
def sitemap_crawl(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chaos-sitemaps")
    secret = tmp / "secret.txt"
    secret.write_text(SECRET)
    with ChaosServer() as srv:
        b = srv.base
        bomb_head = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        srv.routes.update({
            "/robots.txt": page("User-agent: *\nAllow: /\n" + "".join(f"Sitemap: {b}{p}\n" for p in SITEMAPS),
                                content_type="text/plain"),
            "/": _home("/ok"), "/ok": page(html("OK")),
            "/malformed.xml": page(b'<?xml version="1.0"?><urlset><url><loc>' + b.encode() + b"/ok</loc></url><url><loc>",
                                   content_type="application/xml"),
            "/index.xml": page(_index(f"{b}/index.xml", f"{b}/index2.xml"), content_type="application/xml"),
            "/index2.xml": page(_index(f"{b}/index.xml"), content_type="application/xml"),
            "/big.xml": page(_urlset(b, 60_000), content_type="application/xml"),
            "/bomb.xml.gz": stream(gzip_bomb(prefix=bomb_head, fill=b" "), content_type="application/gzip"),
            "/bomb-ce.xml": stream(gzip_bomb(prefix=bomb_head, fill=b" "), content_type="application/xml",
                                   headers={"Content-Encoding": "gzip"}),
            "/xxe.xml": page(_xxe(str(secret), f"{b}/xxe-probe"), content_type="application/xml"),
            "/laughs.xml": page(LAUGHS, content_type="application/xml"),
        })
        store = str(tmp / "sitemaps.emaudit.db")
        run = run_cli(["crawl", srv.url("/"), "--store", store, "--max-pages", "5", "--timeout", "5", "--retries", "0",
                       "--format", "json"], cwd=str(tmp), deadline=60)
        log = srv.paths()
    with Store.open(store) as st:
        maps = {m["url"][len(b):]: m for m in st.iter_sitemaps()}
    yield run, store, b, log, maps


def test_sitemap_crawl_ends_cleanly_with_bounded_memory(sitemap_crawl):
    run, _, _, _, _ = sitemap_crawl
    assert not run.timed_out and run.code == 0, run.err
    assert_clean_stderr(run)
    print(f"peak RSS {run.maxrss_mb:.0f} MB, {run.elapsed:.1f} s")
    assert run.maxrss_mb < MAX_RSS_MB
    assert run.json()["pages"] == 5


def test_malformed_sitemap_recorded(sitemap_crawl):
    maps = sitemap_crawl[4]
    assert maps["/malformed.xml"]["error"] or maps["/malformed.xml"]["problems"]


def test_self_including_index_read_once(sitemap_crawl):
    _, _, _, log, maps = sitemap_crawl
    assert log.count("/index.xml") == 1 and log.count("/index2.xml") == 1
    assert maps["/index.xml"]["kind"] == "sitemapindex"


def test_60k_url_sitemap_capped_at_50k(sitemap_crawl):
    _, store, _, _, maps = sitemap_crawl
    assert maps["/big.xml"]["url_count"] <= 50_000 + 1
    with Store.open(store) as st:
        n = st.query("SELECT COUNT(*) FROM sitemap_entries WHERE sitemap LIKE '%/big.xml'")[0][0]
    assert 0 < n <= 50_000


@pytest.mark.parametrize("path", ["/bomb.xml.gz", "/bomb-ce.xml"])
def test_gzip_bomb_sitemap_stops_at_the_cap(sitemap_crawl, path):
    m = sitemap_crawl[4][path]
    assert m["bytes"] <= 52_428_800 + 1 and (m["truncated"] or m["error"] or m["problems"]), m


@pytest.mark.parametrize("path", ["/xxe.xml", "/laughs.xml"])
def test_xml_entities_never_expanded(sitemap_crawl, path):
    _, store, _, log, maps = sitemap_crawl
    assert "/xxe-probe" not in log
    raw = open(store, "rb").read()
    assert SECRET.encode() not in raw
    assert b"lollollol" not in raw
    assert path in maps
