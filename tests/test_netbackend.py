"""The asyncio network backend under httpx: plain and TLS connections, flow control, timeouts,
servers that close connections, and the fetch error kinds it must keep."""

from __future__ import annotations

import asyncio
import datetime
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpcore
import pytest

from emaudit import netbackend
from emaudit.http import HttpSettings, fetch, make_async_client

Handler = Callable[[socket.socket], None]


@contextmanager
def raw_server(handler: Handler, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """A loopback server running ``handler`` on each accepted connection (a thread each)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def serve_one(conn: socket.socket) -> None:
        try:
            if tls is not None:
                conn = tls.wrap_socket(conn, server_side=True)
            handler(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            conn.settimeout(5)
            thread = threading.Thread(target=serve_one, args=(conn,), daemon=True)
            thread.start()
            threads.append(thread)

    acceptor = threading.Thread(target=accept_loop, daemon=True)
    acceptor.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stop.set()
        acceptor.join(5)
        listener.close()
        for thread in threads:
            thread.join(5)


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    return data


def keep_alive(body: bytes, close_after: bool = False, max_requests: int = 500) -> Handler:
    def handler(conn: socket.socket) -> None:
        for _ in range(max_requests):
            if not _read_request(conn):
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            if close_after:  # closes without announcing it: the client must not reuse the socket
                return

    return handler


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


async def _fetch_many(url: str, count: int, settings: HttpSettings | None = None):  # type: ignore[no-untyped-def]
    settings = settings or HttpSettings(concurrency=2)
    async with make_async_client(settings) as client:
        assert isinstance(client._transport._pool._network_backend, netbackend.AsyncioBackend)
        return [await fetch(client, url, retries=settings.retries, max_bytes=settings.max_bytes) for _ in range(count)]


def test_the_crawl_client_uses_the_asyncio_backend() -> None:
    async def check() -> None:
        async with make_async_client(HttpSettings()) as client:
            assert isinstance(client._transport._pool._network_backend, netbackend.AsyncioBackend)

    run(check())


def test_install_leaves_an_unknown_client_alone() -> None:
    assert netbackend.install(object()) is False


def test_keep_alive_connection_is_reused_and_bodies_are_whole() -> None:
    accepted: list[int] = []

    def counting(conn: socket.socket) -> None:
        accepted.append(1)
        keep_alive(b"<p>hello</p>")(conn)

    with raw_server(counting) as url:
        results = run(_fetch_many(url, 30))
    assert [r.status for r in results] == [200] * 30
    assert all(r.body == b"<p>hello</p>" for r in results)
    assert len(accepted) == 1  # one connection for 30 sequential requests


def test_server_closing_after_each_response_is_survived() -> None:
    with raw_server(keep_alive(b"ok", close_after=True)) as url:
        results = run(_fetch_many(url, 40))
    assert [r.status for r in results] == [200] * 40
    assert all(r.body == b"ok" for r in results)


def test_large_body_crosses_the_read_high_water_mark() -> None:
    body = bytes(range(256)) * (3 * netbackend.READ_HIGH_WATER // 256 + 7)
    with raw_server(keep_alive(body)) as url:
        results = run(_fetch_many(url, 2, HttpSettings(max_bytes=10 * len(body))))
    assert all(r.status == 200 and r.body == body and not r.truncated for r in results)


def test_stalled_response_is_a_timeout() -> None:
    release = threading.Event()

    def stall(conn: socket.socket) -> None:
        _read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
        release.wait(5)

    with raw_server(stall) as url:
        try:
            results = run(_fetch_many(url, 1, HttpSettings(timeout=0.3, retries=0)))
        finally:
            release.set()
    assert results[0].status is None and results[0].error_kind == "timeout"


def test_refused_connection_is_a_connect_error() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    results = run(_fetch_many(f"http://127.0.0.1:{port}/", 1, HttpSettings(retries=0)))
    assert results[0].status is None and results[0].error_kind == "connect"


def test_reset_mid_body_is_a_reset() -> None:
    def reset(conn: socket.socket) -> None:
        _read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    with raw_server(reset) as url:
        results = run(_fetch_many(url, 1, HttpSettings(retries=0)))
    assert results[0].status is None and results[0].error_kind == "reset"


def test_write_to_a_peer_that_never_reads_times_out() -> None:
    release = threading.Event()

    def never_read(conn: socket.socket) -> None:
        release.wait(5)

    async def push(url: str) -> None:
        port = int(url.rsplit(":", 1)[1].strip("/"))
        stream = await netbackend.AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=2)
        try:
            with pytest.raises(httpcore.WriteTimeout):
                for _ in range(64):  # bounded: the socket buffers fill long before 64 MB
                    await stream.write(b"x" * (1 << 20), timeout=0.2)
        finally:
            await stream.aclose()

    with raw_server(never_read) as url:
        try:
            run(push(url))
        finally:
            release.set()


# ------------------------------------------------------------------------------------ TLS
def server_context(files: tuple[Path, Path], alpn: list[str] | None = None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*files)
    if alpn:
        context.set_alpn_protocols(alpn)
    return context


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    folder: Path = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder / "cert.pem", folder / "key.pem"


def test_https_through_start_tls(tls_files: tuple[Path, Path]) -> None:
    with raw_server(keep_alive(b"<title>secure</title>"), tls=server_context(tls_files)) as url:
        results = run(_fetch_many(url, 5, HttpSettings(verify=False)))
    assert [r.status for r in results] == [200] * 5
    assert all(r.body == b"<title>secure</title>" for r in results)


def test_untrusted_certificate_is_a_tls_error(tls_files: tuple[Path, Path]) -> None:
    with raw_server(keep_alive(b"x"), tls=server_context(tls_files)) as url:
        results = run(_fetch_many(url, 1, HttpSettings(verify=True, retries=0)))
    assert results[0].status is None and results[0].error_kind == "tls"
    assert "certificate" in (results[0].error or "").lower()


def test_unresolvable_host_is_a_dns_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_name(*args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)  # the loop resolves through it
    results = run(_fetch_many("http://no-such-host.invalid/", 1, HttpSettings(retries=0)))
    assert results[0].status is None and results[0].error_kind == "dns"


def test_a_name_with_several_addresses_connects() -> None:
    # "localhost" may resolve to ::1 first while the server listens on 127.0.0.1 only: the
    # connection must fall back to the next address.
    with raw_server(keep_alive(b"<p>by name</p>")) as url:
        results = run(_fetch_many(url.replace("127.0.0.1", "localhost"), 3))
    assert [r.body for r in results] == [b"<p>by name</p>"] * 3


def _h2_handler(body: bytes) -> Handler:
    """A minimal HTTP/2 server connection (h2 state machine): answers every stream with ``body``."""
    import h2.config
    import h2.connection
    import h2.events

    def handler(conn: socket.socket) -> None:
        h2conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False))
        h2conn.initiate_connection()
        conn.sendall(h2conn.data_to_send())
        for _ in range(1000):  # bounded: a test sends a handful of requests
            data = conn.recv(65536)
            if not data:
                return
            for event in h2conn.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    headers = [(":status", "200"), ("content-type", "text/html"), ("content-length", str(len(body)))]
                    h2conn.send_headers(event.stream_id, headers)
                    h2conn.send_data(event.stream_id, body, end_stream=True)
            conn.sendall(h2conn.data_to_send())

    return handler


def test_http2_is_negotiated_through_the_backend(tls_files: tuple[Path, Path]) -> None:
    with raw_server(_h2_handler(b"<p>over h2</p>"), tls=server_context(tls_files, alpn=["h2"])) as url:
        results = run(_fetch_many(url, 4, HttpSettings(verify=False, http2=True)))
    assert [(r.status, r.http_version, r.body) for r in results] == [(200, "HTTP/2", b"<p>over h2</p>")] * 4
