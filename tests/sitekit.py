"""A small threaded HTTP server for fixture sites (127.0.0.1 only) with a request log.

Routes map a path (with query) to a :class:`Resp` or to a callable ``(request) -> Resp``.
The request log proves politeness (robots.txt obeyed, delays respected, credentials sent).
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Union


@dataclass
class Resp:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "text/html; charset=utf-8"
    delay: float = 0.0  # seconds before answering


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    time: float


Route = Union[Resp, Callable[[Request], Resp]]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._answer()

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(head=True)

    def _answer(self, head: bool = False) -> None:
        req = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
        with self.server.lock:
            self.server.log.append(req)
        route = self.server.routes.get(self.path) or self.server.routes.get(self.path.split("?")[0])
        resp = Resp(404, b"<html><head><title>Not found</title></head><body>404</body></html>")
        if route is not None:
            resp = route(req) if callable(route) else route
        if resp.delay:
            time.sleep(resp.delay)
        body = resp.body.encode("utf-8") if isinstance(resp.body, str) else resp.body
        self.send_response(resp.status)
        if resp.content_type:
            self.send_header("Content-Type", resp.content_type)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, routes: dict[str, Route]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes = routes
        self.log: list[Request] = []
        self.lock = threading.Lock()

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up (killed crawler, timeout) is part of the tests, not an error."""


class SiteServer:
    """``with SiteServer(routes) as site: site.url('/x')`` — stopped on exit."""

    def __init__(self, routes: dict[str, Route] | None = None) -> None:
        self._server = _Server(routes or {})
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def routes(self) -> dict[str, Route]:
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

    def start(self) -> SiteServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def html(title: str = "", body: str = "", head: str = "", lang: str | None = "en") -> str:
    lang_attr = f' lang="{lang}"' if lang else ""
    return (
        f"<!DOCTYPE html><html{lang_attr}><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title>{head}</head>"
        f"<body>{body}</body></html>"
    )


def gz(data: bytes | str) -> bytes:
    return gzip.compress(data.encode("utf-8") if isinstance(data, str) else data)
