"""Page parsing for the crawler, in-process or in lean child processes (the second core).

Parsing (HTML → facts → store rows) is the crawl's main CPU cost. The crawler's event loop
fetches and writes; :class:`ParsePool` hands bodies to child processes started with
``python -m emaudit.parseworker``, which import only the extractor (not httpx, Typer or the CLI),
so each costs ~25 MB instead of a full ``multiprocessing`` worker (~50 MB plus a resource
tracker).

Protocol on the child's stdin/stdout: 4-byte big-endian length + pickle, one request and one
answer per page, in order. A child dies with the crawler (Linux: ``PR_SET_PDEATHSIG``; elsewhere
it exits on end of input).
"""

from __future__ import annotations

import collections
import contextlib
import os
import pickle
import signal
import struct
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emaudit.store import PreparedPage, prepare_page
from emaudit.urls import url_id

if TYPE_CHECKING:  # the child never imports asyncio (it would cost it ~10 MB of memory)
    import asyncio

_HEADER = struct.Struct(">I")


@dataclass(slots=True)
class ParsedPage:
    """What parsing returns to the crawler (picklable)."""

    prepared: PreparedPage  # the store rows (facts JSON, link rows)
    targets: list[tuple[int, str, str, bool]]  # (url id, url, ref kind, rel nofollow) of refs with a URL
    canonical_url: str | None
    noindex: bool
    nofollow: bool


def parse_page(body: bytes, url: str, content_type: str | None, headers: dict[str, str],
               strip_query: tuple[str, ...]) -> ParsedPage:
    """Bytes → facts → store rows, in one pure function."""
    from emaudit.extract import extract

    facts = extract(body, url, content_type=content_type, headers=headers, strip_query=strip_query)
    pairs = [(url_id(r.url) if r.url is not None else None, r) for r in facts.refs]
    targets = [(uid, r.url, r.kind, r.nofollow) for uid, r in pairs if uid is not None and r.url is not None]
    canonical = facts.canonicals[0].get("url") if facts.canonicals else None
    if canonical is not None and not str(canonical).startswith(("http://", "https://")):
        canonical = None
    return ParsedPage(prepare_page(facts, pairs), targets, canonical, facts.noindex, facts.nofollow)


class WorkerDied(RuntimeError):
    """A parse child exited (killed, out of memory): the crawler parses in-process instead."""


class _Child:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        import asyncio

        self.proc = proc
        self.pending: collections.deque[asyncio.Future[ParsedPage]] = collections.deque()
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            while True:
                size = _HEADER.unpack(await self.proc.stdout.readexactly(_HEADER.size))[0]
                answer = pickle.loads(await self.proc.stdout.readexactly(size))
                future = self.pending.popleft()
                if future.done():
                    continue
                if isinstance(answer, ParsedPage):
                    future.set_result(answer)
                else:
                    future.set_exception(RuntimeError(str(answer)))
        except Exception:  # noqa: BLE001 - any failure ends this child; its pages are parsed in-process
            pass
        while self.pending:
            future = self.pending.popleft()
            if not future.done():
                future.set_exception(WorkerDied("parse worker exited"))

    async def submit(self, args: tuple[Any, ...]) -> ParsedPage:
        import asyncio

        assert self.proc.stdin is not None
        if self.reader.done():
            raise WorkerDied("parse worker exited")
        future: asyncio.Future[ParsedPage] = asyncio.get_running_loop().create_future()
        self.pending.append(future)
        data = pickle.dumps(args, protocol=pickle.HIGHEST_PROTOCOL)
        self.proc.stdin.write(_HEADER.pack(len(data)) + data)
        try:
            await self.proc.stdin.drain()
        except (ConnectionError, BrokenPipeError) as exc:
            raise WorkerDied("parse worker exited") from exc
        return await future

    async def close(self) -> None:
        import asyncio

        if self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.close()
        if self.proc.returncode is None:
            # Nothing to save in a parse process: SIGTERM spares the wait for its interpreter's
            # exit (~30 ms, paid on every crawl end and Ctrl-C).
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 5)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        self.reader.cancel()


class ParsePool:
    """A few parse children; each page goes to the least busy one."""

    def __init__(self, children: list[_Child]) -> None:
        self._children = children

    @classmethod
    async def start(cls, workers: int) -> ParsePool:
        import asyncio

        children = []
        for _ in range(workers):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "emaudit.parseworker", str(os.getpid()),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
                limit=64 * 1024 * 1024,
            )
            children.append(_Child(proc))
        return cls(children)

    @property
    def alive(self) -> bool:
        return any(not c.reader.done() for c in self._children)

    async def parse(self, *args: Any) -> ParsedPage:
        live = [c for c in self._children if not c.reader.done()]
        if not live:
            raise WorkerDied("no parse worker left")
        child = min(live, key=lambda c: len(c.pending))
        return await child.submit(args)

    async def close(self) -> None:
        import asyncio

        await asyncio.gather(*(c.close() for c in self._children), return_exceptions=True)


# ---------------------------------------------------------------------- the child
def _die_with_parent(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the crawler's to handle
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the crawler died before prctl took effect
        os._exit(0)


def _widen_pipes(size: int = 1 << 20) -> None:
    """Let ~30 parsed pages wait in the pipe while the crawler commits a batch to SQLite, instead
    of this process stalling on a full 64 KB pipe (Linux ``F_SETPIPE_SZ``; best effort)."""
    if not sys.platform.startswith("linux"):
        return
    import fcntl

    for fd in (0, 1):
        try:
            fcntl.fcntl(fd, 1031, size)  # F_SETPIPE_SZ
        except OSError:
            pass


def _serve(stdin: Any, stdout: Any) -> None:
    while True:
        header = stdin.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        args = pickle.loads(stdin.read(_HEADER.unpack(header)[0]))
        try:
            answer: Any = parse_page(*args)
        except Exception as exc:  # noqa: BLE001 - reported to the crawler, which records it on the URL
            answer = f"{type(exc).__name__}: {exc}"
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.write(_HEADER.pack(len(data)) + data)
        stdout.flush()


def main(argv: list[str]) -> None:
    _die_with_parent(int(argv[1]) if len(argv) > 1 else os.getppid())
    _widen_pipes()
    _serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    # Run the module's importable copy, so pickled answers name ``emaudit.parseworker`` classes
    # (not ``__main__``) and the crawler can read them.
    from emaudit import parseworker

    parseworker.main(sys.argv)
