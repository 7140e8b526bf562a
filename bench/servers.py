"""Serve the generated site on 127.0.0.1: nginx when it is on PATH, else ThreadingHTTPServer.

Both run as child processes of the harness (never daemonised) and are stopped by the context
manager's ``finally`` — on success, error and Ctrl-C alike — and, on Linux, by the kernel too if
the harness itself dies (``PR_SET_PDEATHSIG``).

Run as a script, this module *is* the Python fallback server::

    python bench/servers.py SITE_DIR PORT
"""

from __future__ import annotations

import contextlib
import http.server
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from measure import child_preexec, stop_process

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 10.0

NGINX_CONF = """\
# Benchmark-only nginx: one process in the foreground, loopback only, no logs, no gzip.
daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    types {{
        text/html html;
        text/xml xml;
        application/gzip gz;
        text/plain txt;
        application/json json;
    }}
    default_type application/octet-stream;
    charset utf-8;
    charset_types text/html text/xml text/plain;
    access_log off;
    gzip off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    server_tokens off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen {host}:{port};
        root {root};
        index index.html;
        location / {{ try_files $uri $uri/ =404; }}
    }}
}}
"""


@dataclass
class Server:
    kind: str  # "nginx" | "python"
    version: str
    base_url: str
    process: subprocess.Popen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _wait_listening(port: int, process: subprocess.Popen, log_file: Path | None) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            detail = log_file.read_text(errors="replace")[-2000:] if log_file and log_file.exists() else ""
            raise RuntimeError(f"server exited with code {process.returncode} before listening\n{detail}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {HOST}:{port} within {STARTUP_TIMEOUT:.0f} s")


def nginx_version(nginx: str) -> str:
    out = subprocess.run([nginx, "-v"], capture_output=True, text=True, timeout=10)
    return (out.stderr or out.stdout).strip().split("/")[-1]


@contextlib.contextmanager
def _nginx(site: Path, port: int, nginx: str) -> Iterator[Server]:
    with tempfile.TemporaryDirectory(prefix="emaudit-bench-nginx-") as tmp:
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, host=HOST, port=port, root=site.resolve()))
        err = Path(tmp) / "error.log"
        cmd = [nginx, "-p", tmp, "-c", str(conf), "-e", str(err)]
        with open(Path(tmp) / "stderr.log", "wb") as stderr:
            proc = subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=stderr, preexec_fn=child_preexec, start_new_session=True
            )
        try:
            _wait_listening(port, proc, err)
            yield Server("nginx", nginx_version(nginx), f"http://{HOST}:{port}/", proc)
        finally:
            stop_process(proc)


@contextlib.contextmanager
def _python(site: Path, port: int) -> Iterator[Server]:
    cmd = [sys.executable, str(Path(__file__).resolve()), str(site.resolve()), str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, preexec_fn=child_preexec, start_new_session=True)
    try:
        _wait_listening(port, proc, None)
        yield Server("python", f"ThreadingHTTPServer, Python {sys.version.split()[0]}", f"http://{HOST}:{port}/", proc)
    finally:
        stop_process(proc)


@contextlib.contextmanager
def serve(site: Path, prefer: str = "auto") -> Iterator[Server]:
    """Serve ``site`` on a free loopback port; ``prefer`` is auto | nginx | python."""
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    port = free_port()
    if prefer == "nginx" and not nginx:
        raise RuntimeError("--server nginx: nginx is not installed (apt-get install -y nginx)")
    if nginx and prefer != "python":
        with _nginx(site, port, nginx) as server:
            yield server
    else:
        with _python(site, port) as server:
            yield server


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as nginx does

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def _serve_forever(site: str, port: int) -> None:
    handler = partial(_QuietHandler, directory=site)  # .gz is served as application/gzip
    with _Server((HOST, port), handler) as httpd:
        httpd.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    try:
        _serve_forever(sys.argv[1], int(sys.argv[2]))
    except KeyboardInterrupt:
        pass
