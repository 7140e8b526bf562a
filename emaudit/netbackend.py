"""An httpcore network backend on plain asyncio transports (httpx's default goes through anyio).

httpcore's connection pool talks to sockets through a pluggable ``AsyncNetworkBackend``; under
asyncio the default is anyio's, which costs ~0.3 ms of CPU per request here: a cancel scope per
read and write, task look-ups, attribute providers, and a ``poll()`` system call on every idle
pooled connection each time a request picks a connection (``has_expired`` asks whether the socket
is readable). This backend drives an :class:`asyncio.Protocol` directly:

- reads return what the protocol has buffered, or wait on one future; timeouts are one
  ``loop.call_at`` handle (no task, no cancel scope), so it also works on Python 3.10;
- writes go straight to the transport, and wait only when the transport asks to pause;
- "is this idle connection readable?" (a server that closed a keep-alive connection) is
  answered from what the event loop already knows: it watches every open socket each iteration
  and has fed the protocol any data or end of stream, so no ``poll()`` per pooled connection.

Errors are httpcore's own exception types, so httpx maps them as usual (ConnectError,
ReadTimeout …). Unix sockets and proxies keep httpx's default path.

With ``block_private`` the backend also refuses to connect to non-public addresses after
resolving the host name itself (see :class:`AsyncioBackend`): the crawl's private-address guard
for names, where the crawler's URL checks only see IP literals and ``localhost``.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

import httpcore
from httpcore._backends.base import (
    SOCKET_OPTION,
    AsyncNetworkBackend,
    AsyncNetworkStream,
)

from emaudit.urls import is_private_ip

READ_HIGH_WATER = 512 * 1024  # buffered bytes at which the socket stops being read until consumed
# A host with several addresses (IPv6 and IPv4): the next one is tried after this many seconds
# without waiting for the first to fail (RFC 8305's recommended 250 ms, as anyio does).
HAPPY_EYEBALLS_DELAY = 0.25

T = TypeVar("T")


class _Protocol(asyncio.Protocol):
    __slots__ = (
        "buffer",
        "drain_waiter",
        "eof",
        "error",
        "paused_reading",
        "paused_writing",
        "transport",
        "waiter",
    )

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.drain_waiter: asyncio.Future[None] | None = None
        self.paused_reading = False
        self.paused_writing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= READ_HIGH_WATER and not self.paused_reading and self.transport is not None:
            self.paused_reading = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        if exc is not None:
            self.error = exc
        self._wake()
        waiter, self.drain_waiter = self.drain_waiter, None
        if waiter is not None and not waiter.done():
            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(exc)

    def pause_writing(self) -> None:
        self.paused_writing = True

    def resume_writing(self) -> None:
        self.paused_writing = False
        waiter, self.drain_waiter = self.drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


async def _wait(future: asyncio.Future[None], timeout: float | None) -> None:
    """Await ``future`` for at most ``timeout`` seconds (TimeoutError), without creating a task."""
    if timeout is None:
        await future
        return
    handle = asyncio.get_running_loop().call_later(timeout, _expire, future)
    try:
        await future
    finally:
        handle.cancel()


async def _park(proto: _Protocol, slot: str, timeout: float | None) -> None:
    """Wait until the protocol wakes its ``slot`` future ("waiter": data or end of stream,
    "drain_waiter": room to write), at most ``timeout`` seconds (TimeoutError)."""
    future = asyncio.get_running_loop().create_future()
    setattr(proto, slot, future)
    try:
        await _wait(future, timeout)
    finally:
        setattr(proto, slot, None)


class AsyncioStream(AsyncNetworkStream):
    """One TCP (or TLS) connection, as httpcore expects it."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        proto = self._protocol
        if not proto.buffer and not proto.eof:
            try:
                await _park(proto, "waiter", timeout)
            except TimeoutError as exc:
                raise httpcore.ReadTimeout("timed out reading the response") from exc
        if proto.buffer:
            data = bytes(proto.buffer[:max_bytes])
            del proto.buffer[:max_bytes]
            if proto.paused_reading and len(proto.buffer) < READ_HIGH_WATER // 2:
                proto.paused_reading = False
                self._transport.resume_reading()
            return data
        if proto.error is not None:
            raise httpcore.ReadError(str(proto.error) or type(proto.error).__name__) from proto.error
        return b""  # end of stream: httpcore reports "server disconnected" itself

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        proto = self._protocol
        if self._transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        try:
            self._transport.write(buffer)
        except (OSError, RuntimeError) as exc:
            raise httpcore.WriteError(str(exc)) from exc
        if proto.paused_writing:
            try:
                await _park(proto, "drain_waiter", timeout)
            except TimeoutError as exc:
                raise httpcore.WriteTimeout("timed out sending the request") from exc
            except OSError as exc:
                raise httpcore.WriteError(str(exc)) from exc

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        protocol = _Protocol()
        handshake = loop.start_tls(self._transport, protocol, ssl_context, server_hostname=server_hostname)
        try:
            transport = await _connecting(handshake, timeout, "during the TLS handshake")
        except (httpcore.ConnectError, httpcore.ConnectTimeout):
            self._transport.close()
            raise
        if transport is None:
            raise httpcore.ConnectError("the server closed the connection during the TLS handshake")
        protocol.connection_made(transport)
        return AsyncioStream(transport, protocol)

    def get_extra_info(self, info: str) -> Any:
        transport = self._transport
        if info == "is_readable":
            # The event loop watches every open socket and has already fed this protocol any data
            # or end of stream that arrived before this iteration: no system call needed. (A FIN
            # arriving after this check is the keep-alive race every client has.)
            proto = self._protocol
            return bool(proto.buffer) or proto.eof or transport.is_closing()
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        return None


async def _connecting(step: Awaitable[T], timeout: float | None, what: str) -> T:
    """Await one step of opening a connection (resolve, connect, TLS handshake) within
    ``timeout``, with httpcore's error types (what httpx maps to ConnectTimeout/ConnectError)."""
    try:
        return await asyncio.wait_for(step, timeout)
    except (asyncio.TimeoutError, TimeoutError) as exc:
        raise httpcore.ConnectTimeout(f"timed out {what}") from exc
    except (OSError, UnicodeError) as exc:  # UnicodeError: a host name the resolver cannot encode
        raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc


async def resolve(host: str, port: int | None, timeout: float | None) -> list[str]:
    """The distinct addresses of ``host``, in the resolver's order (httpcore's error types)."""
    loop = asyncio.get_running_loop()
    infos = await _connecting(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout, f"resolving {host}")
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def _open(
    host: str, port: int, timeout: float | None, local_address: str | None, happy_eyeballs: float | None
) -> tuple[asyncio.Transport, _Protocol]:
    loop = asyncio.get_running_loop()
    connect = loop.create_connection(
        _Protocol,
        host,
        port,
        local_addr=(local_address, 0) if local_address else None,
        happy_eyeballs_delay=happy_eyeballs,
    )
    transport, protocol = await _connecting(connect, timeout, f"connecting to {host}:{port}")
    assert isinstance(transport, asyncio.Transport)
    return transport, protocol


class PrivateAddressError(httpcore.ConnectError):
    """The host resolves only to addresses this crawl must not reach (loopback, private …)."""


class AsyncioBackend(AsyncNetworkBackend):
    """httpcore network backend on asyncio transports (see the module docstring).

    ``block_private``: resolve host names here and connect only to globally routable addresses
    (:func:`emaudit.urls.is_private_ip`). Checking the address actually connected to, after
    resolution, is what stops a public name that resolves to 127.0.0.1, 10.x or 169.254.169.254
    (internal services, cloud metadata, DNS rebinding); checking URLs alone cannot.
    """

    def __init__(self, *, block_private: bool = False) -> None:
        self.block_private = block_private

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        if not self.block_private:
            transport, protocol = await _open(host, port, timeout, local_address, HAPPY_EYEBALLS_DELAY)
        else:
            transport, protocol = await self._open_public(host, port, timeout, local_address)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            for option in socket_options or ():
                sock.setsockopt(*option)
        return AsyncioStream(transport, protocol)

    async def _open_public(
        self, host: str, port: int, timeout: float | None, local_address: str | None
    ) -> tuple[asyncio.Transport, _Protocol]:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        addresses = await resolve(host, port, timeout)
        allowed = [a for a in addresses if not is_private_ip(a)]
        if not allowed:
            shown = addresses[0] if addresses else "no address"
            raise PrivateAddressError(
                f"{host} resolves to {shown}, a private or reserved address: not connected (--allow-private allows it)"
            )
        error: Exception | None = None
        for address in allowed:  # in the resolver's order, one at a time
            remaining = None if deadline is None else max(0.001, deadline - loop.time())
            try:
                return await _open(address, port, remaining, local_address, None)
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        connect = loop.create_unix_connection(_Protocol, path)
        transport, protocol = await _connecting(connect, timeout, f"connecting to {path}")
        assert isinstance(transport, asyncio.Transport)
        return AsyncioStream(transport, protocol)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def install(client: Any, *, block_private: bool = False) -> bool:
    """Make ``client``'s own (non-proxy) httpx transport use :class:`AsyncioBackend`.

    httpx does not take a network backend, so this sets the one attribute httpcore's pool reads
    when it opens a connection. Returns False (and leaves the default backend) when httpx or
    httpcore changed shape, so an upgrade degrades to the default path instead of breaking.
    """
    transport = getattr(client, "_transport", None)
    pools = [getattr(t, "_pool", None) for t in getattr(transport, "lanes", [transport])]
    if not pools or not all(isinstance(p, httpcore.AsyncConnectionPool) and hasattr(p, "_network_backend") for p in pools):
        return False
    backend = AsyncioBackend(block_private=block_private)
    for pool in pools:
        pool._network_backend = backend
    return True


__all__ = ["AsyncioBackend", "AsyncioStream", "PrivateAddressError", "install", "resolve"]
