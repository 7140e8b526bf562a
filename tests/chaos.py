"""A misbehaving HTTP server for hardening tests (127.0.0.1 only), and helpers to run crawls.

:class:`ChaosServer` speaks raw HTTP/1.1 over sockets so that a route can do what a polite
server never does: answer late, drip a body, lie about ``Content-Length``, stream forever,
reset the connection mid-body, or close without a word. Every connection is closed after one
response (``Connection: close``), every loop checks the server's stop event, and
:meth:`ChaosServer.stop` returns promptly even while handlers are dripping.

A route maps a path (with or without query) to a handler ``(conn: Conn) -> None``; the
helpers :func:`page`, :func:`redirect`, :func:`slow_headers`, :func:`drip`, :func:`stream`,
:func:`gzip_bomb` … build the usual ones. Unknown paths get a 404.

:func:`run_cli` runs ``emaudit`` in a subprocess with a hard wall-clock deadline and reports
its exit code, output and peak memory (``ru_maxrss`` of that process, or of the largest child it
waited for, such as its parse worker).
"""

from __future__ import annotations

import functools
import json
import os
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

Handler = Callable[["Conn"], None]
MAX_REQUEST_HEAD = 64 * 1024


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    time: float


class Conn:
    """One accepted connection, with the request already read."""

    def __init__(self, sock: socket.socket, request: Request, stopping: threading.Event) -> None:
        self.sock = sock
        self.request = request
        self.stopping = stopping

    @property
    def path(self) -> str:
        return self.request.path

    def head(self, status: int = 200, headers: dict[str, str] | None = None, *,
             content_type: str | None = "text/html; charset=utf-8", length: int | None = None,
             chunked: bool = False, reason: str = "Chaos") -> None:
        lines = [f"HTTP/1.1 {status} {reason}"]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        if length is not None:
            lines.append(f"Content-Length: {length}")
        if chunked:
            lines.append("Transfer-Encoding: chunked")
        lines.extend(f"{k}: {v}" for k, v in (headers or {}).items())
        lines.append("Connection: close")
        self.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def write(self, data: bytes) -> bool:
        """Send bytes; False once the client has gone (or the server is stopping)."""
        if self.stopping.is_set():
            return False
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def chunk(self, data: bytes) -> bool:
        return self.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")

    def sleep(self, seconds: float) -> bool:
        """Sleep unless the server stops first; False when it stopped."""
        return not self.stopping.wait(seconds)

    def reset(self) -> None:
        """Abort with a TCP RST (SO_LINGER 0) instead of an orderly close."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.sock.close()


class _ChaosHandler(socketserver.BaseRequestHandler):
    server: _ChaosTCPServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        srv = self.server
        if srv.on_accept == "close":
            return
        if srv.on_accept == "reset":
            Conn(sock, Request("", "", {}, time.monotonic()), srv.stopping).reset()
            return
        sock.settimeout(5)
        req = _read_request(sock)
        if req is None:
            return
        with srv.lock:
            srv.log.append(req)
        handler = srv.routes.get(req.path) or srv.routes.get(req.path.split("?")[0]) or not_found
        conn = Conn(sock, req, srv.stopping)
        try:
            handler(conn)
        except OSError:
            pass  # the client went away: that is the point of most routes

    def finish(self) -> None:
        try:
            self.request.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def _read_request(sock: socket.socket) -> Request | None:
    data = b""
    try:
        while b"\r\n\r\n" not in data and len(data) < MAX_REQUEST_HEAD:
            more = sock.recv(65536)
            if not more:
                return None
            data += more
    except OSError:
        return None
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 2:
        return None
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(parts[0], parts[1], headers, time.monotonic())


class _ChaosTCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False  # never wait for a dripping handler on close
    allow_reuse_address = True
    request_queue_size = 128  # the default backlog (5) drops SYNs from 8 concurrent connects: 1 s retries

    def __init__(self, routes: dict[str, Handler], on_accept: str | None) -> None:
        super().__init__(("127.0.0.1", 0), _ChaosHandler)
        self.routes = routes
        self.on_accept = on_accept
        self.log: list[Request] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()


class ChaosServer:
    """``with ChaosServer({"/": page(...)}) as srv: srv.url("/x")`` — stopped on exit.

    ``on_accept="close"`` (or ``"reset"``) makes every connection end right after accept,
    before the request is even read.
    """

    def __init__(self, routes: dict[str, Handler] | None = None, *, on_accept: str | None = None) -> None:
        self._server = _ChaosTCPServer(dict(routes or {}), on_accept)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def routes(self) -> dict[str, Handler]:
        return self._server.routes

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base + path

    @property
    def log(self) -> list[Request]:
        with self._server.lock:
            return list(self._server.log)

    def paths(self) -> list[str]:
        return [r.path for r in self.log]

    def start(self) -> ChaosServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ChaosServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------------- route builders
def _bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def page(body: bytes | str = b"", status: int = 200, *, content_type: str | None = "text/html; charset=utf-8",
         headers: dict[str, str] | None = None) -> Handler:
    """A well-formed response."""
    data = _bytes(body)

    def handler(conn: Conn) -> None:
        conn.head(status, headers, content_type=content_type, length=len(data))
        if conn.request.method != "HEAD":
            conn.write(data)

    return handler


def redirect(location: str, status: int = 301) -> Handler:
    return page(b"", status, headers={"Location": location}, content_type=None)


def not_found(conn: Conn) -> None:
    page("<html><head><title>Not found</title></head><body>404</body></html>", 404)(conn)


def slow_headers(seconds: float) -> Handler:
    """Accept the request, then say nothing for ``seconds`` (a stuck backend)."""

    def handler(conn: Conn) -> None:
        if conn.sleep(seconds):
            page("<title>late</title>")(conn)

    return handler


def drip(body: bytes | str, interval: float) -> Handler:
    """Headers at once, then the body one byte per ``interval`` seconds."""
    data = _bytes(body)

    def handler(conn: Conn) -> None:
        conn.head(200, length=len(data))
        for i in range(len(data)):
            if not conn.write(data[i : i + 1]) or not conn.sleep(interval):
                return

    return handler


def drip_headers(interval: float) -> Handler:
    """The status line and headers one byte per ``interval`` seconds (each read gets a byte in time)."""

    def handler(conn: Conn) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: " + b"p" * 200 + b"\r\nContent-Length: 0\r\n\r\n"
        for i in range(len(head)):
            if not conn.write(head[i : i + 1]) or not conn.sleep(interval):
                return

    return handler


def stream(chunks: Callable[[], Iterable[bytes]], *, content_type: str = "text/html; charset=utf-8",
           length: int | None = None, chunked: bool = False, headers: dict[str, str] | None = None) -> Handler:
    """Send what a (lazy) generator yields; the body is never built in memory."""

    def handler(conn: Conn) -> None:
        conn.head(200, headers, content_type=content_type, length=length, chunked=chunked)
        for data in chunks():
            if not (conn.chunk(data) if chunked else conn.write(data)):
                return
        if chunked:
            conn.write(b"0\r\n\r\n")

    return handler


def zeros(total: int, *, prefix: bytes = b"", fill: bytes = b"a", size: int = 1 << 16) -> Callable[[], Iterator[bytes]]:
    """A generator factory yielding ``prefix`` then ``total`` bytes of ``fill``, 64 KiB at a time."""
    block = (fill * (size // len(fill) + 1))[:size]

    def gen() -> Iterator[bytes]:
        yield prefix
        sent = 0
        while sent < total:
            n = min(size, total - sent)
            yield block[:n]
            sent += n

    return gen


def endless(block: bytes = b"<p>more</p>" * 100) -> Callable[[], Iterator[bytes]]:
    def gen() -> Iterator[bytes]:
        while True:
            yield block

    return gen


@functools.lru_cache(maxsize=4)
def gzip_bomb_bytes(total: int = 1 << 30, prefix: bytes = b"", fill: bytes = b"\0") -> bytes:
    """A valid gzip file of ``prefix`` + ``total`` bytes of ``fill``: ~1 MB for 1 GiB, built in ~1 s.

    Each 1 MiB block is compressed after a full flush (which resets the compressor), so every
    block compresses to the same bytes: compress one, repeat it, add the CRC and the size.
    """
    block = (fill * ((1 << 20) // len(fill) + 1))[: 1 << 20]
    comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    head = comp.compress(prefix) + comp.flush(zlib.Z_FULL_FLUSH)
    packed = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    n = total // len(block)
    crc = zlib.crc32(prefix)
    for _ in range(n):
        crc = zlib.crc32(block, crc)
    size = (len(prefix) + n * len(block)) & 0xFFFFFFFF
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + head + packed * n + comp.flush()
            + struct.pack("<II", crc & 0xFFFFFFFF, size))


def gzip_bomb(total: int = 1 << 30, *, prefix: bytes = b"", fill: bytes = b"\0") -> Callable[[], Iterator[bytes]]:
    """A generator factory streaming :func:`gzip_bomb_bytes` in 64 KiB pieces."""
    data = gzip_bomb_bytes(total, prefix, fill)

    def gen() -> Iterator[bytes]:
        for i in range(0, len(data), 1 << 16):
            yield data[i : i + (1 << 16)]

    return gen


def lying_length(body: bytes | str, claimed: int) -> Handler:
    """Announce ``claimed`` bytes, send ``body`` (shorter or longer), then close."""
    data = _bytes(body)

    def handler(conn: Conn) -> None:
        conn.head(200, length=claimed)
        conn.write(data)

    return handler


def reset_mid_body(body: bytes | str, after: int) -> Handler:
    data = _bytes(body)

    def handler(conn: Conn) -> None:
        conn.head(200, length=len(data))
        conn.write(data[:after])
        conn.sleep(0.05)
        conn.reset()

    return handler


def close_silently(conn: Conn) -> None:
    """Read the request, answer nothing, close (an empty reply)."""


def garbage(conn: Conn) -> None:
    """Not HTTP at all."""
    conn.write(b"\x00\xffSSH-2.0-OpenSSH_9.6\r\n\x1b[31mnot http\r\n\r\n")


# ---------------------------------------------------------------------- running crawls
_MEASURED = (
    "import os, resource, sys\n"
    "from emaudit.cli import main\n"
    "code = 0\n"
    "try:\n"
    "    code = main(sys.argv[1:])\n"
    "finally:\n"
    "    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))\n"
    "    with open(os.environ['CHAOS_RSS_FILE'], 'w') as fh:\n"
    "        fh.write(str(peak))\n"
    "sys.exit(code)\n"
)


@dataclass
class CliRun:
    code: int | None
    out: str
    err: str
    elapsed: float
    maxrss_mb: float  # peak resident set of the emaudit process, or of its largest child (parse worker)
    timed_out: bool = False
    lines: list[str] = field(default_factory=list)

    def json(self) -> dict:
        return json.loads(self.out)


def run_cli(args: list[str], *, cwd: str, deadline: float, env: dict[str, str] | None = None) -> CliRun:
    """Run ``emaudit ARGS`` in a subprocess; killed (and reported) if it outlives ``deadline`` s."""
    rss_file = os.path.join(cwd, f".rss-{os.getpid()}-{time.monotonic_ns()}")
    full_env = {**os.environ, **(env or {}), "CHAOS_RSS_FILE": rss_file, "COLUMNS": "200"}
    full_env.pop("EMAUDIT_DEBUG", None)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", _MEASURED, *args], cwd=cwd, env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                            encoding="utf-8", errors="replace")
    timed_out = False
    try:
        out, err = proc.communicate(timeout=deadline)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.kill()
        out, err = proc.communicate(timeout=10)
    elapsed = time.monotonic() - started
    rss = 0.0
    try:
        with open(rss_file) as fh:
            rss = int(fh.read()) / 1024
        os.unlink(rss_file)
    except (OSError, ValueError):
        pass
    return CliRun(None if timed_out else proc.returncode, out, err, elapsed, rss, timed_out, err.splitlines())


def assert_clean_stderr(run: CliRun) -> None:
    """No traceback, no internal error, at most one error line."""
    assert "Traceback" not in run.err, run.err
    assert "internal error" not in run.err, run.err
    assert len([line for line in run.lines if line.strip()]) <= 1, run.err
