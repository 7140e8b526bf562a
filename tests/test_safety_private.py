"""Private-address guard: a public site cannot make the crawler request private addresses.

End to end without any real public address: a tiny HTTP forward proxy on 127.0.0.1 *serves*
the "public" site ``http://public.test/`` itself (it never connects anywhere), and the crawl
subprocess reaches it through ``HTTP_PROXY``. Every request the crawler makes goes through the
proxy (no ``NO_PROXY``), so the proxy's log is the complete list of what was requested.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from chaos import ChaosServer, assert_clean_stderr, page, run_cli
from sitekit import html

from emaudit.crawler import CrawlOptions, Crawler
from emaudit.store import Store

pytestmark = pytest.mark.slow

PRIVATE_LINKS = [
    "http://127.0.0.1:9/loopback", "http://127.1/shorthand", "http://2130706433/decimal", "http://0x7f000001/hex",
    "http://10.0.0.1/ten", "http://172.16.5.4/172", "http://192.168.1.1/router", "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/v6", "http://[fe80::1]/linklocal", "http://[::ffff:127.0.0.1]/mapped", "http://localhost/admin",
    "http://api.localhost/x", "http://0.0.0.0/zero", "http://100.64.0.1/cgnat",
]
REDIRECTS = {"/go-loopback": "http://127.0.0.1:9/via-redirect", "/go-metadata": "http://169.254.169.254/latest/"}


class _Proxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, sites: dict[str, dict[str, tuple[int, dict[str, str], str]]]) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.sites = sites
        self.log: list[str] = []
        self.lock = threading.Lock()


class _ProxyHandler(BaseHTTPRequestHandler):
    server: _Proxy
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - absolute-form request line: GET http://host/path
        with self.server.lock:
            self.server.log.append(self.path)
        parts = urlsplit(self.path)
        site = self.server.sites.get(parts.netloc)
        status, headers, body = (site or {}).get(parts.path or "/", (404, {}, "not found")) if site else (502, {}, "")
        data = body.encode()
        self.send_response(status)
        for k, v in {"Content-Type": "text/html; charset=utf-8", **headers, "Content-Length": str(len(data))}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    do_HEAD = do_GET


class Proxy:
    def __init__(self, sites) -> None:
        self._server = _Proxy(sites)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def log(self) -> list[str]:
        with self._server.lock:
            return list(self._server.log)

    def env(self) -> dict[str, str]:
        return {"HTTP_PROXY": self.url, "http_proxy": self.url, "NO_PROXY": "", "no_proxy": "",
                "HTTPS_PROXY": self.url, "https_proxy": self.url, "ALL_PROXY": "", "all_proxy": ""}

    def __enter__(self) -> Proxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _public_site() -> dict:
    links = "".join(f'<a href="{u}">{i}</a>' for i, u in enumerate(PRIVATE_LINKS))
    links += "".join(f'<a href="{p}">{p}</a>' for p in REDIRECTS) + '<a href="/ok">ok</a><img src="http://10.1.2.3/pixel.gif">'
    pages = {"/": (200, {}, html("Public home", links)), "/ok": (200, {}, html("OK")),
             "/robots.txt": (200, {"Content-Type": "text/plain"}, "User-agent: *\nAllow: /\n")}
    pages.update({p: (301, {"Location": loc}, "") for p, loc in REDIRECTS.items()})
    fake_private = {"/loopback": (200, {}, html("PRIVATE"))}
    return {"public.test": pages, "127.0.0.1:9": fake_private}


def _is_private_request(line: str) -> bool:
    return not line.startswith("http://public.test/")


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("private")
    with Proxy(_public_site()) as proxy:
        store = str(tmp / "public.emaudit.db")
        run = run_cli(["crawl", "http://public.test/", "--store", store, "--check-external", "--no-sitemaps",
                       "--timeout", "2", "--retries", "0", "--format", "json"], cwd=str(tmp), deadline=30, env=proxy.env())
        log = proxy.log
    return run, store, log


def test_public_crawl_goes_through_the_proxy(guarded):
    run, store, log = guarded
    assert run.code == 0, run.err
    assert_clean_stderr(run)
    assert "http://public.test/" in log and "http://public.test/ok" in log


def test_private_links_never_requested(guarded):
    _, _, log = guarded
    assert [line for line in log if _is_private_request(line)] == []


@pytest.mark.parametrize("url", PRIVATE_LINKS + ["http://10.1.2.3/pixel.gif"])
def test_private_links_recorded_as_skipped(guarded, url):
    _, store, _ = guarded
    from emaudit.urls import normalise

    with Store.open(store) as st:
        rec = st.get(normalise(url))
    assert rec is not None, url
    assert (rec.state, rec.skip_reason, rec.status) == ("skipped", "private_address", None), rec


@pytest.mark.parametrize("path", list(REDIRECTS))
def test_redirect_into_private_recorded_not_followed(guarded, path):
    _, store, _ = guarded
    with Store.open(store) as st:
        hop = st.get("http://public.test" + path)
        assert (hop.status, hop.location) == (301, REDIRECTS[path])
        target = st.get(REDIRECTS[path])
    assert (target.state, target.skip_reason) == ("skipped", "private_address")


def test_allow_private_follows_them(tmp_path):
    with Proxy(_public_site()) as proxy:
        store = str(tmp_path / "allowed.emaudit.db")
        run = run_cli(["crawl", "http://public.test/", "--store", store, "--check-external", "--no-sitemaps",
                       "--allow-private", "--timeout", "2", "--retries", "0"], cwd=str(tmp_path), deadline=60,
                      env=proxy.env())
        log = proxy.log
    assert run.code == 0, run.err
    assert "http://127.0.0.1:9/loopback" in log and "http://127.0.0.1:9/via-redirect" in log
    with Store.open(store) as st:
        assert st.get("http://127.0.0.1:9/loopback").status == 200
        assert not [r for r in st.iter_urls() if r.skip_reason == "private_address"]


def test_private_start_url_allowed_with_its_links(tmp_path):
    with ChaosServer() as other, ChaosServer() as srv:
        other.routes["/x"] = page(html("Other loopback service"))
        srv.routes["/"] = page(html("Staging", f'<a href="/a">a</a><a href="{other.url("/x")}">other</a>'
                                               f'<a href="http://localhost:{other.port}/x">by name</a>'))
        srv.routes["/a"] = page(html("A"))
        store = str(tmp_path / "staging.emaudit.db")
        run = run_cli(["crawl", srv.url("/"), "--store", store, "--check-external", "--no-sitemaps"],
                      cwd=str(tmp_path), deadline=30)
        assert run.code == 0, run.err
        with Store.open(store) as st:
            assert st.get(srv.url("/a")).status == 200
            assert st.get(other.url("/x")).status == 200
            assert st.get(f"http://localhost:{other.port}/x").status == 200
            assert not [r for r in st.iter_urls() if r.skip_reason == "private_address"]


# ---------------------------------------------------------------------- Crawler.classify
@pytest.fixture()
def public_crawler():
    store = Store.create(":memory:")
    yield Crawler(CrawlOptions(start_url="http://public.test/"), store)
    store.close()


@pytest.mark.parametrize("url", PRIVATE_LINKS)
def test_classify_private_external_is_skipped(public_crawler, url):
    from emaudit.urls import normalise

    nu = public_crawler.classify(normalise(url), kind="page", depth=1, source=None, source_kind="a")
    assert (nu.state, nu.skip_reason, nu.internal) == ("skipped", "private_address", False)


@pytest.mark.parametrize("url", ["http://example.com/", "http://8.8.8.8/", "http://134744072/", "http://[2001:4860::8888]/",
                                 "http://localhost.example.com/", "http://10.example/"])
def test_classify_public_external_is_external(public_crawler, url):
    nu = public_crawler.classify(url, kind="page", depth=1, source=None, source_kind="a")
    assert (nu.state, nu.skip_reason) == ("external", None)


def test_classify_private_with_allow_private():
    store = Store.create(":memory:")
    try:
        crawler = Crawler(CrawlOptions(start_url="http://public.test/", allow_private=True), store)
        nu = crawler.classify("http://127.0.0.1/x", kind="page", depth=1, source=None, source_kind="a")
        assert (nu.state, nu.skip_reason) == ("external", None)
    finally:
        store.close()


@pytest.mark.parametrize("start", ["http://127.0.0.1:8080/", "http://localhost/", "http://192.168.0.10/", "http://[::1]:8000/"])
def test_classify_private_start_allows_private_links(start):
    store = Store.create(":memory:")
    try:
        crawler = Crawler(CrawlOptions(start_url=start), store)
        nu = crawler.classify("http://10.0.0.5/intranet", kind="page", depth=1, source=None, source_kind="a")
        assert (nu.state, nu.skip_reason) == ("external", None)
        own = crawler.classify(start + "page", kind="page", depth=1, source=None, source_kind="a")
        assert (own.state, own.internal) == ("queued", True)
    finally:
        store.close()
