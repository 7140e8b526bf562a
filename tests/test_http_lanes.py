"""A laned client (what the crawler uses): each worker's requests go through its own small
connection pool, the rest through a shared one; the private-address guard holds on every lane."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from emaudit.http import LANE_CONNECTIONS, HttpSettings, _LaneTransport, fetch, make_async_client, use_lane
from emaudit.netbackend import AsyncioBackend


class _KeepAliveHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one TCP connection serves many requests

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.server.seen.append((self.client_address[1], self.path))  # type: ignore[attr-defined]
        body = b"<title>ok</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAliveHandler)
    httpd.daemon_threads = True
    httpd.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _base(httpd: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}"


def test_each_lane_keeps_its_own_connection_and_unlaned_requests_share_one(server):
    base = _base(server)

    async def main() -> list[int | None]:
        async with make_async_client(HttpSettings(concurrency=3), lanes=3) as client:
            assert isinstance(client._transport, _LaneTransport) and len(client._transport.lanes) == 4

            async def worker(lane: int | None) -> list[int | None]:
                if lane is not None:
                    use_lane(lane)
                return [(await fetch(client, f"{base}/{lane}/{i}", retries=0)).status for i in range(5)]

            results = await asyncio.gather(*(worker(lane) for lane in (0, 1, 2, None)))
            return [s for statuses in results for s in statuses]

    assert asyncio.run(main()) == [200] * 20
    ports_by_lane: dict[str, set[int]] = {}
    for port, path in server.seen:
        ports_by_lane.setdefault(path.split("/")[1], set()).add(port)
    # one keep-alive connection per lane, never shared between lanes
    assert {lane: len(ports) for lane, ports in ports_by_lane.items()} == {"0": 1, "1": 1, "2": 1, "None": 1}
    assert len(set().union(*ports_by_lane.values())) == 4
    assert Counter(path.split("/")[1] for _, path in server.seen) == {"0": 5, "1": 5, "2": 5, "None": 5}


def test_a_lane_holds_at_most_lane_connections_at_once(server):
    base = _base(server)

    async def main() -> None:
        async with make_async_client(HttpSettings(), lanes=2) as client:
            use_lane(0)
            statuses = await asyncio.gather(*(fetch(client, f"{base}/burst/{i}", retries=0) for i in range(12)))
            assert [r.status for r in statuses] == [200] * 12
            assert len(client._transport.lanes[0]._pool.connections) <= LANE_CONNECTIONS
            assert all(not lane._pool.connections for lane in client._transport.lanes[1:])

    asyncio.run(main())
    assert len({port for port, _ in server.seen}) <= LANE_CONNECTIONS


@pytest.mark.parametrize("lane", [0, 3, None])
def test_the_private_address_guard_holds_on_every_lane(server, lane):
    async def main() -> tuple[str | None, list[object]]:
        async with make_async_client(HttpSettings(block_private=True), lanes=4) as client:
            backends = [t._pool._network_backend for t in client._transport.lanes]
            if lane is not None:
                use_lane(lane)
            result = await fetch(client, f"{_base(server)}/secret", retries=0)
            return result.error_kind, backends

    error_kind, backends = asyncio.run(main())
    assert error_kind == "private_address"
    assert len(backends) == 5 and all(isinstance(b, AsyncioBackend) and b.block_private for b in backends)
    assert server.seen == []


@pytest.mark.parametrize(("http2", "lanes"), [(True, 8), (False, 1), (False, 0)])
def test_http2_or_a_single_lane_keep_httpx_own_transport(http2, lanes):
    async def main() -> object:
        async with make_async_client(HttpSettings(http2=http2), lanes=lanes) as client:
            return client._transport

    assert isinstance(asyncio.run(main()), httpx.AsyncHTTPTransport)


@pytest.mark.parametrize("verify", [True, False])
def test_lanes_share_the_clients_tls_context(verify):
    async def main() -> tuple[object, set[int]]:
        async with make_async_client(HttpSettings(verify=verify), lanes=3) as client:
            contexts = {id(t._pool._ssl_context) for t in client._transport.lanes}
            return next(iter(client._transport.lanes))._pool._ssl_context, contexts

    context, ids = asyncio.run(main())
    assert len(ids) == 1  # one CA bundle load, shared by every lane
    assert context.verify_mode == (ssl.CERT_REQUIRED if verify else ssl.CERT_NONE)
