"""Private-address guard for host *names*: a public site's crawl never connects to a name that
resolves to a loopback, private or link-local address (internal services, cloud metadata, DNS
rebinding), while a crawl whose own start host resolves privately (staging by name) is allowed.

No real DNS and no public address: the resolver (``socket.getaddrinfo``, which asyncio calls) is
replaced by a table, and for the end-to-end crawl the backend's notion of "public" is narrowed to
127.0.0.1, so that 127.0.0.2 plays the private address without leaving the machine.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest
from chaos import ChaosServer, page, redirect
from sitekit import html

from emaudit import crawler as crawler_module
from emaudit import netbackend
from emaudit.crawler import CrawlOptions, run_crawl
from emaudit.http import HttpSettings, fetch, make_async_client
from emaudit.store import Store
from emaudit.urls import is_private_ip

REAL_GETADDRINFO = socket.getaddrinfo


def fake_dns(monkeypatch: pytest.MonkeyPatch, table: dict[str, list[str]]) -> list[str]:
    """Resolve the names of ``table`` to its IPv4 addresses; returns the log of names asked."""
    asked: list[str] = []

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):  # type: ignore[no-untyped-def]
        if isinstance(host, str) and host in table:
            asked.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port or 0)) for ip in table[host]]
        return REAL_GETADDRINFO(host, port, family, type, proto, flags)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def only_public(monkeypatch: pytest.MonkeyPatch, public: str = "127.0.0.1") -> None:
    """Make ``public`` the one address the backend treats as public."""
    monkeypatch.setattr(netbackend, "is_private_ip", lambda address: address != public)
    monkeypatch.setattr(crawler_module, "is_private_ip", lambda address: address != public)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "::1", "fe80::1%eth0", "fc00::1", "::ffff:127.0.0.1",
                                     "::ffff:10.0.0.1", "not an address", ""])
def test_non_public_addresses(address: str) -> None:
    assert is_private_ip(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2001:4860:4860::8888", "::ffff:8.8.8.8"])
def test_public_addresses(address: str) -> None:
    assert not is_private_ip(address)


def _fetch(url: str, settings: HttpSettings):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        async with make_async_client(settings) as client:
            return await fetch(client, url, retries=0)

    return asyncio.run(go())


def test_name_resolving_to_loopback_is_not_connected(monkeypatch: pytest.MonkeyPatch) -> None:
    with ChaosServer({"/": page(html("internal"))}) as srv:
        fake_dns(monkeypatch, {"intranet.example": ["127.0.0.1"]})
        result = _fetch(f"http://intranet.example:{srv.port}/", HttpSettings(block_private=True))
        served = srv.paths()
    assert (result.status, result.error_kind) == (None, "private_address")
    assert "intranet.example resolves to 127.0.0.1" in (result.error or "")
    assert served == []  # not even a connection that sent a request


def test_without_the_guard_the_same_name_is_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    with ChaosServer({"/": page(html("internal"))}) as srv:
        fake_dns(monkeypatch, {"intranet.example": ["127.0.0.1"]})
        result = _fetch(f"http://intranet.example:{srv.port}/", HttpSettings(block_private=False))
    assert result.status == 200


def test_only_the_public_addresses_of_a_name_are_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    only_public(monkeypatch)
    with ChaosServer({"/": page(html("public"))}) as srv:
        asked = fake_dns(monkeypatch, {"mixed.example": ["127.0.0.2", "127.0.0.1"]})
        result = _fetch(f"http://mixed.example:{srv.port}/", HttpSettings(block_private=True))
    assert result.status == 200 and asked == ["mixed.example"]


def test_unresolvable_name_stays_a_dns_error_with_the_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_name(*args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    result = _fetch("http://gone.example/", HttpSettings(block_private=True))
    assert (result.status, result.error_kind) == (None, "dns")


def _crawl(tmp_path, start: str, **options) -> Store:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "crawl.emaudit.db")
    run_crawl(CrawlOptions(start_url=start, store_path=path, sitemaps=False, timeout=2, retries=0, parse_workers=0,
                           **options), handle_signals=False)
    return Store.open(path)


def _site(srv: ChaosServer, inside: str) -> dict[str, Callable]:
    return {
        "/": page(html("Public home", f'<a href="/ok">ok</a><a href="{inside}/secret">secret</a>'
                                      f'<a href="/go-inside">via redirect</a>')),
        "/ok": page(html("OK")),
        "/go-inside": redirect(f"{inside}/after-redirect"),
        "/robots.txt": page("User-agent: *\nAllow: /\n", content_type="text/plain"),
    }


def test_public_crawl_does_not_connect_to_names_resolving_privately(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    only_public(monkeypatch)  # 127.0.0.1 plays the public internet, 127.0.0.2 the private network
    with ChaosServer() as srv:
        inside = f"http://intranet.public.example:{srv.port}"
        srv.routes.update(_site(srv, inside))
        fake_dns(monkeypatch, {"www.public.example": ["127.0.0.1"], "intranet.public.example": ["127.0.0.2"]})
        with _crawl(tmp_path, f"http://www.public.example:{srv.port}/", check_external=True) as store:
            home = store.get(f"http://www.public.example:{srv.port}/ok")
            secret = store.get(f"{inside}/secret")
            after = store.get(f"{inside}/after-redirect")
    assert home is not None and home.status == 200
    for rec in (secret, after):
        assert rec is not None and (rec.status, rec.error_kind) == (None, "private_address"), rec
        assert "127.0.0.2" in (rec.error or "")


def test_start_host_resolving_privately_is_a_private_crawl(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # A staging server reached by name: its own pages and its private links are crawled.
    with ChaosServer() as srv:
        inside = f"http://intranet.staging.example:{srv.port}"
        srv.routes.update(_site(srv, inside))
        srv.routes["/secret"] = page(html("Secret"))
        fake_dns(monkeypatch, {"staging.example": ["127.0.0.1"], "intranet.staging.example": ["127.0.0.1"]})
        with _crawl(tmp_path, f"http://staging.example:{srv.port}/", check_external=True) as store:
            ok = store.get(f"http://staging.example:{srv.port}/ok")
            secret = store.get(f"{inside}/secret")
    assert ok is not None and ok.status == 200
    assert secret is not None and secret.status == 200, secret


def test_allow_private_connects_to_them(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    only_public(monkeypatch, public="127.0.0.3")  # nothing here is public: the start is "private"…
    monkeypatch.setattr(crawler_module, "is_private_ip", lambda address: False)  # …except the start
    with ChaosServer() as srv:
        inside = f"http://intranet.public.example:{srv.port}"
        srv.routes.update(_site(srv, inside))
        srv.routes["/secret"] = page(html("Secret"))
        fake_dns(monkeypatch, {"www.public.example": ["127.0.0.1"], "intranet.public.example": ["127.0.0.1"]})
        with _crawl(tmp_path, f"http://www.public.example:{srv.port}/", check_external=True,
                    allow_private=True) as store:
            secret = store.get(f"{inside}/secret")
    assert secret is not None and secret.status == 200, secret
