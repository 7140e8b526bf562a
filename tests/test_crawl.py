"""End-to-end crawl of the fixture site: the store's contents, precisely."""

from __future__ import annotations

import json
import time

import pytest
from fixture_site import build_site
from sitekit import Resp, SiteServer, html

from emaudit.cli import main
from emaudit.crawler import CrawlOptions, run_crawl
from emaudit.store import Store


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    with SiteServer() as site:
        build_site(site)
        path = str(tmp_path_factory.mktemp("crawl") / "site.emaudit.db")
        summary = run_crawl(CrawlOptions(start_url=site.url("/"), store_path=path), handle_signals=False)
        log = site.log
        base = site.base
    store = Store.open(path)
    yield summary, store, log, base
    store.close()


def _rec(store, base, path):
    rec = store.get(base + path)
    assert rec is not None, path
    return rec


def test_summary(crawled):
    summary, _, _, _ = crawled
    assert summary.state == "finished"
    assert summary.by_status_class["2xx"] >= 8
    assert summary.by_status_class["3xx"] == 5
    assert summary.by_status_class["4xx"] == 1
    assert summary.by_status_class["5xx"] == 1


def test_pages_and_statuses(crawled):
    _, store, _, b = crawled
    expected = {
        "/": 200, "/about": 200, "/old": 301, "/chain1": 302, "/chain2": 301, "/chain3": 200,
        "/loop-a": 301, "/loop-b": 301, "/missing": 404, "/error": 500, "/noindex-meta": 200,
        "/noindex-header": 200, "/latin1": 200, "/broken-bytes": 200, "/fr/": 200, "/orphan": 200,
    }
    for path, status in expected.items():
        rec = _rec(store, b, path)
        assert (rec.state, rec.status, rec.internal, rec.kind) == ("done", status, True, "page"), path
    fetched_pages = {r.url[len(b):] for r in store.iter_urls(state="done", kind="page")}
    assert fetched_pages == set(expected)


def test_redirect_hops(crawled):
    _, store, _, b = crawled
    old = _rec(store, b, "/old")
    assert (old.location, old.redirect_hops, old.final_status, old.redirect_loop) == ("/about", 1, 200, False)
    assert old.final_id == _rec(store, b, "/about").id
    chain = _rec(store, b, "/chain1")
    assert (chain.redirect_hops, chain.final_status, chain.redirect_loop) == (2, 200, False)
    assert chain.final_id == _rec(store, b, "/chain3").id
    loop = _rec(store, b, "/loop-a")
    assert loop.redirect_loop is True
    assert _rec(store, b, "/chain2").source_kind == "redirect"


def test_robots_blocked_not_fetched(crawled):
    _, store, log, b = crawled
    assert not [r for r in log if r.path.startswith("/private/")]
    for path in ("/private/page", "/private/secret"):
        rec = _rec(store, b, path)
        assert (rec.state, rec.skip_reason, rec.status) == ("blocked", "robots", None)
    assert log[0].path == "/robots.txt"
    origin = store.robots_for(b)
    assert origin["status"] == 200 and origin["crawl_delay"] == 0.05
    assert "Disallow: /private/" in origin["body"]


def test_crawl_delay_respected(crawled):
    _, _, log, _ = crawled
    times = sorted(r.time for r in log)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.04  # crawl-delay 0.05 s (a few ms of arrival jitter allowed)


def test_user_agent(crawled):
    _, _, log, _ = crawled
    assert all(r.headers["user-agent"].startswith("emaudit/") for r in log)


def test_sitemaps(crawled):
    _, store, _, b = crawled
    maps = {m["url"][len(b):]: m for m in store.iter_sitemaps()}
    assert set(maps) == {"/sitemap_index.xml", "/sitemap-pages.xml", "/sitemap-more.xml.gz"}
    assert maps["/sitemap_index.xml"]["kind"] == "sitemapindex"
    assert (maps["/sitemap-more.xml.gz"]["kind"], maps["/sitemap-more.xml.gz"]["url_count"]) == ("urlset", 2)
    orphan = _rec(store, b, "/orphan")
    assert (orphan.in_sitemap, orphan.depth, orphan.inlinks, orphan.source_kind) == (True, None, 0, "sitemap")
    assert store.sitemap_entries(orphan.id) == [(b + "/sitemap-more.xml.gz", "2026-02-03")]
    home = _rec(store, b, "/")
    assert (home.in_sitemap, home.depth) == (True, 0)
    assert _rec(store, b, "/about").depth == 1
    assert _rec(store, b, "/missing").in_sitemap is False


def test_page_facts(crawled):
    _, store, _, b = crawled
    home = store.page(b + "/")
    assert home.facts.title == "Home page of the fixture site"
    assert home.canonical_url == b + "/" and home.indexable
    assert {h["lang"] for h in home.facts.hreflangs} == {"fr", "en"}
    assert home.url.inlinks == 2  # /about and /fr/ link back home
    meta = store.page(b + "/noindex-meta")
    assert meta.noindex and not meta.indexable
    header = store.page(b + "/noindex-header")
    assert header.noindex and header.url.headers["x-robots-tag"] == "noindex"
    latin = store.page(b + "/latin1")
    assert latin.facts.title == "Café crème" and latin.facts.h1s == ["Été"]
    broken = store.page(b + "/broken-bytes")
    assert broken.facts.decode_errors
    assert "\ufffd" in broken.facts.title
    assert store.page(b + "/fr/").facts.html_lang == "fr"


def test_links(crawled):
    _, store, _, b = crawled
    home = _rec(store, b, "/")
    out = store.outlinks(home.id)
    kinds = {}
    for dst, ref in out:
        kinds.setdefault(ref.kind, []).append(ref)
    anchors = {r.anchor for r in kinds["a"]}
    assert {"About us", "Old page", "Mail", "JS", "External"} <= anchors
    js = next(r for r in kinds["a"] if r.anchor == "JS")
    assert js.url is None and js.raw == "javascript:void(0)"
    mail = next(r for r in kinds["a"] if r.anchor == "Mail")
    assert mail.url == "mailto:contact@example.com"
    assert store.get("mailto:contact@example.com").state == "not_http"
    ext = store.get("https://external.example/page")
    assert (ext.state, ext.internal, ext.status) == ("external", False, None)
    assert {r.url for r in kinds["img"]} == {b + "/logo.png"}
    assert {r.url for r in kinds["css"]} == {b + "/style.css"}
    assert {r.url for r in kinds["canonical"]} == {b + "/"}
    team = [r for r in kinds["a"] if r.anchor == "Team"]
    assert team[0].url == b + "/about"  # fragment dropped
    inl = store.inlinks(_rec(store, b, "/missing").id)
    assert inl == [(b + "/", "Missing")]


def test_resources_checked_not_parsed(crawled):
    _, store, _, b = crawled
    logo = _rec(store, b, "/logo.png")
    assert (logo.kind, logo.status, logo.bytes, logo.content_type) == ("resource", 200, 108, "image/png")
    assert store.page(b + "/logo.png") is None
    assert _rec(store, b, "/style.css").status == 200


def test_run_info_has_no_secrets(tmp_path):
    with SiteServer() as site:
        build_site(site)
        path = str(tmp_path / "s.emaudit.db")
        run_crawl(
            CrawlOptions(start_url=site.url("/"), store_path=path, max_pages=2, sitemaps=False,
                         headers={"X-Api-Key": "Bearer s3cr3t-token"}, auth=("bob", "hunter2")),
            handle_signals=False,
        )
        sent = [r.headers.get("x-api-key", "") for r in site.log]
        basic = [r.headers.get("authorization", "") for r in site.log]
    assert any(h == "Bearer s3cr3t-token" for h in sent)
    assert any(h.startswith("Basic ") for h in basic)
    raw = open(path, "rb").read()
    for secret in (b"s3cr3t-token", b"hunter2"):
        assert secret not in raw
    with Store.open(path) as store:
        info = store.run_info()
    assert info["options"]["headers"] == ["X-Api-Key"] and info["options"]["auth"] is True


def test_max_pages_and_depth(tmp_path):
    with SiteServer() as site:
        build_site(site)
        path = str(tmp_path / "d.emaudit.db")
        run_crawl(CrawlOptions(start_url=site.url("/"), store_path=path, max_depth=0, sitemaps=False, resources=False),
                  handle_signals=False)
    with Store.open(path) as store:
        pages = [r.url for r in store.iter_urls(state="done", kind="page")]
        skipped = {r.skip_reason for r in store.iter_urls(state="skipped")}
    assert pages == [site.base + "/"]
    assert skipped == {"max_depth"}


def test_cli_json_summary(tmp_path, capsys):
    with SiteServer() as site:
        build_site(site)
        path = str(tmp_path / "c.emaudit.db")
        code = main(["crawl", site.url("/"), "--store", path, "--format", "json", "--no-sitemaps", "--max-pages", "3"])
    out, err = capsys.readouterr()
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "emaudit.crawl/1" and doc["store"] == path and doc["pages"] == 3
    assert doc["state"] == "stopped" and doc["stop_reason"] == "max_pages"
    assert err == ""


@pytest.mark.parametrize(
    "args, code, needle",
    [
        (["crawl", "ht!tp://bad url"], 2, "invalid start URL"),
        (["crawl", "http://127.0.0.1:9/", "--no-sitemaps"], 3, "cannot reach"),
        (["crawl", "http://127.0.0.1:9/", "--store", "/nonexistent-dir/x.db"], 4, "cannot create the crawl store"),
        (["crawl", "--resume", "/nonexistent.db"], 2, "no crawl store"),
        (["crawl"], 2, "give a START_URL"),
    ],
)
def test_cli_errors_are_one_line(args, code, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == code
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("emaudit: error:") and needle in lines[0], err


def test_list_mode_crawls_exactly_the_list(tmp_path, capsys):
    with SiteServer() as site:
        build_site(site)
        listing = tmp_path / "urls.txt"
        listing.write_text(f"# audit these\n{site.url('/about')}\n\n{site.url('/missing')}\n{site.url('/old')}\n")
        path = str(tmp_path / "l.emaudit.db")
        code = main(["crawl", "--list", str(listing), "--store", path, "--format", "json"])
        requested = [p for p in site.paths() if p != "/robots.txt"]
    assert code == 0, capsys.readouterr().err
    assert sorted(requested) == ["/about", "/missing", "/old"]  # no link, redirect or sitemap followed
    with Store.open(path) as store:
        fetched = {r.url[len(site.base):]: r.status for r in store.iter_urls(state="done")}
        home = store.get(site.url("/"))
        assert store.run_info()["mode"] == "list"
    assert fetched == {"/about": 200, "/missing": 404, "/old": 301}
    assert (home.state, home.skip_reason) == ("skipped", "list_mode")  # linked from /about, recorded


def test_check_external_head_then_get(tmp_path):
    with SiteServer() as other, SiteServer() as site:
        other.routes["/ok"] = Resp(body="fine")
        other.routes["/nohead"] = lambda req: Resp(405 if req.method == "HEAD" else 200, body="x")
        site.routes["/"] = Resp(body=html("Home", f'<a href="{other.url("/ok")}">a</a><a href="{other.url("/nohead")}">b</a>'
                                                  f'<a href="{other.url("/gone")}">c</a>'))
        path = str(tmp_path / "e.emaudit.db")
        run_crawl(CrawlOptions(start_url=site.url("/"), store_path=path, check_external=True, sitemaps=False),
                  handle_signals=False)
        calls = [(r.method, r.path) for r in other.log]
    assert ("HEAD", "/ok") in calls and ("GET", "/ok") not in calls
    assert ("HEAD", "/nohead") in calls and ("GET", "/nohead") in calls
    with Store.open(path) as store:
        statuses = {u: store.get(other.url(u)).status for u in ("/ok", "/nohead", "/gone")}
        assert store.get(other.url("/ok")).internal is False
    assert statuses == {"/ok": 200, "/nohead": 200, "/gone": 404}


def test_declared_sitemap_that_fails_is_recorded(tmp_path):
    with SiteServer() as site:
        site.routes["/robots.txt"] = Resp(body=f"User-agent: *\nAllow: /\nSitemap: {site.url('/missing-sitemap.xml')}\n",
                                          content_type="text/plain")
        site.routes["/"] = Resp(body=html("Home", "hello"))
        path = str(tmp_path / "m.emaudit.db")
        run_crawl(CrawlOptions(start_url=site.url("/"), store_path=path), handle_signals=False)
    with Store.open(path) as store:
        maps = {m["url"]: (m["kind"], m["status"]) for m in store.iter_sitemaps()}
    # the declared one is invalid; the /sitemap.xml guess (404 too) is not a sitemap at all
    assert maps == {site.url("/missing-sitemap.xml"): ("invalid", 404)}


def _facts_snapshot(path):
    with Store.open(path) as store:
        pages = {p.url.url: (p.facts.to_json_dict(), [r.to_row() for r in p.facts.refs]) for p in store.iter_pages(with_refs=True)}
        urls = {r.url: (r.state, r.status, r.depth) for r in store.iter_urls()}
    return pages, urls


def test_parse_worker_gives_the_same_store_as_in_process(tmp_path):
    with SiteServer() as site:
        build_site(site)
        stores = []
        for workers in (0, 1, 2):
            path = str(tmp_path / f"w{workers}.emaudit.db")
            run_crawl(CrawlOptions(start_url=site.url("/"), store_path=path, parse_workers=workers), handle_signals=False)
            stores.append(_facts_snapshot(path))
    assert stores[0] == stores[1] == stores[2]
    assert len(stores[0][0]) == 9


def test_parse_processes_are_gone_when_the_pool_closes():
    import asyncio

    from emaudit import parseworker

    async def main() -> tuple[list[int | None], str | None]:
        pool = await parseworker.ParsePool.start(2)
        parsed = await pool.parse(b"<title>T</title><a href='/x'>x</a>", "http://example.com/", "text/html", {}, ())
        await pool.close()
        return [c.proc.returncode for c in pool._children], parsed.targets[0][1]

    codes, target = asyncio.run(main())
    assert target == "http://example.com/x"
    assert all(code is not None for code in codes)  # terminated and reaped, not left behind


def test_default_parse_workers_follow_the_usable_cpus(monkeypatch):
    from emaudit import crawler

    monkeypatch.setattr(crawler.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert crawler.default_parse_workers() == 0  # one core: parsing in a child would only add IPC
    monkeypatch.setattr(crawler.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    assert crawler.default_parse_workers() == 2


def test_a_killed_parse_worker_does_not_stop_the_crawl(tmp_path, monkeypatch):
    import os
    import signal

    from emaudit import parseworker

    original = parseworker.ParsePool.start

    async def start_then_kill(workers):
        pool = await original(workers)
        for child in pool._children:
            os.kill(child.proc.pid, signal.SIGKILL)
        return pool

    monkeypatch.setattr(parseworker.ParsePool, "start", start_then_kill)
    with SiteServer() as site:
        build_site(site)
        path = str(tmp_path / "k.emaudit.db")
        summary = run_crawl(CrawlOptions(start_url=site.url("/"), store_path=path, parse_workers=1), handle_signals=False)
    assert summary.state == "finished"
    pages, _ = _facts_snapshot(path)
    assert len(pages) == 9


def test_scope_options_include_exclude_strip_query(tmp_path):
    with SiteServer() as site:
        site.routes["/"] = Resp(body=html("Home", '<a href="/blog/a?utm_source=x&id=1">a</a><a href="/blog/b">b</a>'
                                                  '<a href="/shop/c">c</a><a href="/blog/private-d">d</a>'))
        for p in ("/blog/a", "/blog/b", "/shop/c", "/blog/private-d"):
            site.routes[p] = Resp(body=html(p, "x"))
        path = str(tmp_path / "s.emaudit.db")
        run_crawl(CrawlOptions(start_url=site.url("/"), store_path=path, sitemaps=False, include=["/blog/", r"/$"],
                               exclude=["private"], strip_query=["utm_*"]), handle_signals=False)
        requested = set(site.paths()) - {"/robots.txt"}
    assert requested == {"/", "/blog/a?id=1", "/blog/b"}
    with Store.open(path) as store:
        reasons = {r.url[len(site.base):]: r.skip_reason for r in store.iter_urls(state="skipped")}
    assert reasons == {"/shop/c": "not_included", "/blog/private-d": "excluded"}


def test_subdomain_scope():
    from emaudit.urls import Scope

    default = Scope("https://www.example.com/")
    wide = Scope("https://www.example.com/", subdomains=True)
    for url, inside_default, inside_wide in [
        ("https://www.example.com/a", True, True),
        ("http://www.example.com/a", False, True),
        ("https://shop.example.com/", False, True),
        ("https://example.com/", False, True),
        ("https://www.example.com:8443/", False, True),
        ("https://example.com.evil.net/", False, False),
        ("https://notexample.com/", False, False),
    ]:
        assert (default.is_internal(url), wide.is_internal(url)) == (inside_default, inside_wide), url


def test_rate_limit_spaces_requests(tmp_path):
    with SiteServer() as site:
        links = "".join(f'<a href="/p{i}">{i}</a>' for i in range(6))
        site.routes["/"] = Resp(body=html("Home", links))
        for i in range(6):
            site.routes[f"/p{i}"] = Resp(body=html(f"P{i}", "x"))
        run_crawl(CrawlOptions(start_url=site.url("/"), store_path=str(tmp_path / "r.emaudit.db"), sitemaps=False,
                               rate=10.0, concurrency=4), handle_signals=False)
        times = sorted(r.time for r in site.log if r.path != "/robots.txt")
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(times) == 7 and min(gaps) >= 0.08  # 10 requests/s at most


def test_retry_after_honoured_on_503(tmp_path):
    calls = []

    def flaky(req):
        calls.append(time.monotonic())
        if len(calls) == 1:
            return Resp(503, body="busy", headers={"Retry-After": "1"})
        return Resp(body=html("Back", "ok"))

    with SiteServer() as site:
        site.routes["/"] = flaky
        path = str(tmp_path / "503.emaudit.db")
        run_crawl(CrawlOptions(start_url=site.url("/"), store_path=path, sitemaps=False), handle_signals=False)
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.95
    with Store.open(path) as store:
        assert store.get(site.url("/")).status == 200


# ---------------------------------------------------------------------- rel=nofollow and followed links
def _nofollow_site(site: SiteServer) -> None:
    site.routes.update({
        "/robots.txt": Resp(body="User-agent: *\nAllow: /\n", content_type="text/plain"),
        # /x: first linked with rel=nofollow, then followed on the same page
        # /z: nofollow here, followed from /y (one click deeper)
        # /n: only ever linked with rel=nofollow
        "/": Resp(body=html("Home", '<a href="/x" rel="nofollow">log in</a> <a href="/z" rel="nofollow">z</a>'
                                    ' <a href="/n" rel="nofollow">n</a> <a href="/y">y</a> <a href="/x">x again</a>')),
        "/y": Resp(body=html("Y", '<a href="/z">z from y</a> <a href="/n" rel="nofollow">n</a>')),
        "/x": Resp(body=html("X")), "/z": Resp(body=html("Z")), "/n": Resp(body=html("N")),
    })


def test_a_followed_link_gets_a_url_crawled_even_after_a_nofollow_one(tmp_path):
    path = str(tmp_path / "nf.emaudit.db")
    with SiteServer() as site:
        _nofollow_site(site)
        run_crawl(CrawlOptions(start_url=site.url("/"), store_path=path, sitemaps=False), handle_signals=False)
        paths = site.paths()
        with Store.open(path) as st:
            got = {p: st.get(site.url(p)) for p in ("/x", "/z", "/n")}
    assert "/x" in paths and "/z" in paths and "/n" not in paths
    assert (got["/x"].state, got["/x"].status, got["/x"].depth, got["/x"].skip_reason) == ("done", 200, 1, None)
    # depth stays the shortest path (the nofollow link from the home page), as its first source
    assert (got["/z"].state, got["/z"].depth, got["/z"].source_kind) == ("done", 1, "a")
    assert (got["/n"].state, got["/n"].skip_reason) == ("skipped", "nofollow")


def test_seen_cache_sends_a_url_again_for_a_followed_link_or_a_shorter_depth():
    from emaudit.crawler import _SeenCache

    seen = _SeenCache(8)
    assert seen.should_send(1, 2, False)        # first met, through nofollow
    assert not seen.should_send(1, 3, False)    # nothing new
    assert seen.should_send(1, 3, True)         # a followed link, even deeper
    assert not seen.should_send(1, 4, True)     # a longer followed path: nothing new
    assert seen.should_send(1, 2, True)         # a shorter followed path (the first may have been past --max-depth)
    assert not seen.should_send(1, 2, True)
    assert not seen.should_send(1, 5, False)
    assert seen.should_send(1, 1, False)        # a shorter path of any kind lowers the depth
    assert not seen.should_send(1, 1, False)
    assert seen.should_send(1, 1, True)         # followed at that depth is still news
    assert not seen.should_send(1, 3, True)


def test_seen_cache_is_bounded():
    from emaudit.crawler import _SeenCache

    seen = _SeenCache(4)
    for uid in range(10):
        assert seen.should_send(uid, 1)
    assert len(seen._data) == 4
    assert seen.should_send(0, 1)  # forgotten: sent again (the store's upsert makes that harmless)
    assert not seen.should_send(9, 1)


@pytest.mark.parametrize("resources", [False, True])
def test_refs_to_unrecorded_targets_keep_their_url(tmp_path, resources):
    """A ref whose target the crawl does not record in urls (resources of a crawl without
    --resources, iframes, forms) keeps its URL in the store: the link row keeps the raw href
    and the readers resolve it again (against <base href>, with --strip-query)."""
    body = (
        '<script src="https://cdn.example.net/app.js?utm_source=x"></script>'
        '<iframe src="https://geo.captcha-delivery.com/captcha/?k=1"></iframe>'
        '<img src="https://cdn.example.net/photo.jpg"><img src="local.jpg">'
        '<form action="/search"></form><a href="/about">about</a>'
    )
    with SiteServer() as site:
        site.routes["/"] = Resp(body=html("Home", body, head='<base href="/sub/">'))
        site.routes["/sub/local.jpg"] = Resp(body=b"\xff\xd8", content_type="image/jpeg")
        site.routes["/about"] = Resp(body=html("About", "about us"))
        path = str(tmp_path / "u.emaudit.db")
        run_crawl(CrawlOptions(start_url=site.url("/"), store_path=path, sitemaps=False, resources=resources,
                               strip_query=["utm_*"]), handle_signals=False)
        b = site.base
    expected = {
        ("script", "https://cdn.example.net/app.js", "https://cdn.example.net/app.js?utm_source=x"),
        ("iframe", "https://geo.captcha-delivery.com/captcha/?k=1", "https://geo.captcha-delivery.com/captcha/?k=1"),
        ("img", "https://cdn.example.net/photo.jpg", "https://cdn.example.net/photo.jpg"),
        ("img", b + "/sub/local.jpg", "local.jpg"),
        ("form", b + "/search", "/search"),
        ("a", b + "/about", "/about"),
    }
    with Store.open(path) as store:
        home = store.page(b + "/")
        via_page = {(r.kind, r.url, r.raw) for r in home.facts.refs}
        via_iter = {(r.kind, r.url, r.raw) for p in store.iter_pages(with_refs=True) if p.url.url == b + "/" for r in p.facts.refs}
        via_audit = {(r.kind, r.url, r.raw) for p in store.iter_pages_cached_targets() if p.url.url == b + "/"
                     for r in p.facts.refs}
        via_outlinks = {(r.kind, r.url, r.raw) for _, r in store.outlinks(home.url.id)}
    assert via_page == via_iter == via_audit == via_outlinks == expected


def test_progress_reports_the_finalising_phase(tmp_path):
    """The live line says what the wait after the last fetch is (finalising a big store takes
    seconds to minutes), and its clock keeps going: the crawl sends no more updates then."""
    from emaudit.console import progress_line

    seen: list[tuple[str, int]] = []
    with SiteServer() as site:
        site.routes["/"] = Resp(body=html("Home", '<a href="/a">a</a>'))
        site.routes["/a"] = Resp(body=html("A", "text"))
        run_crawl(CrawlOptions(start_url=site.url("/"), store_path=str(tmp_path / "p.emaudit.db")),
                  on_progress=lambda p: seen.append((p.phase, p.pages)), handle_signals=False)
    assert seen[-1] == ("finalising", 2)
    assert {phase for phase, _ in seen[:-1]} <= {"crawling"}
    from emaudit.crawler import Progress

    progress = Progress(fetched=3, pages=2, queued=5, started=100.0)
    assert progress_line(progress, 110.0).plain == "crawling 2 pages · 3 URLs · queue 5 · 0/s · 0 errors · 10s"
    progress.phase = "finalising"
    assert progress_line(progress, 130.0).plain == "finalising 2 pages · building indexes, inlink counts, redirect chains · 30s"
