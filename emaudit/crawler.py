"""The crawl engine: polite, bounded, resumable, streaming to the store.

Shape (the 500-lines crawler, with Scrapy's bounded components and Crawlee's disk state):

* the frontier and the seen-set live in the store (``urls``), so memory is flat;
* a feeder claims batches of queued URLs (breadth first) into a bounded in-memory queue;
* ``concurrency`` workers share one ``httpx.AsyncClient``; each waits for its origin's
  politeness slot (``--rate``, robots.txt crawl-delay), fetches without following redirects,
  parses HTML once (:func:`emaudit.extract.extract`) and hands a result to the writer;
* the writer commits results in batches (one transaction per ~N pages or per half second);
  workers wait when it falls behind (back-pressure);
* SIGINT/SIGTERM stop the workers, flush what was fetched and mark the run interrupted:
  ``--resume`` continues from the store, without refetching what is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
import signal
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from emaudit import __version__, netbackend
from emaudit.errors import Interrupted, StoreError, UnreachableError, UsageError
from emaudit.http import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT,
    DEFAULT_USER_AGENT,
    FetchResult,
    HttpSettings,
    fetch,
    make_async_client,
    use_lane,
)
from emaudit.models import FOLLOWED_KINDS, LINK_REDIRECT, RESOURCE_KINDS
from emaudit.parseworker import ParsedPage, ParsePool, WorkerDied, parse_page
from emaudit.store import (
    BLOCKED,
    EXTERNAL,
    NOT_HTTP,
    QUEUED,
    SKIPPED,
    Claimed,
    FetchRecord,
    NewUrl,
    PreparedPage,
    Store,
)
from emaudit.system import signals_as_flag, usable_cpus
from emaudit.urls import (
    InvalidURL,
    Scope,
    host_of,
    is_private_host,
    is_private_ip,
    normalise,
    origin_of,
    registrable_suffix,
    resolve,
    url_id,
)

ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309 §2.5: parse at least 500 KiB
SITEMAP_MAX_BYTES = 50 * 1024 * 1024
MAX_SITEMAP_FILES = 1000
SITEMAP_BATCH = 2000  # sitemap URLs per transaction
MAX_REDIRECT_HOPS = 10
SHUTDOWN_GRACE = 20.0  # seconds a stopping crawl (Ctrl-C, SIGTERM) has before it leaves anyway
CLAIM_QUEUE = 64  # URLs claimed ahead of the fetchers at most
WRITE_BATCH = 16  # pages per transaction (short: the loop stalls while it commits)
WRITE_INTERVAL = 0.5  # seconds between commits at most
SEEN_CACHE = 131_072  # recently seen URL ids (≤ ~16 MB): a miss costs a classify + upsert; 16k made a 50k-page crawl 40 % slower
_DIGITS = re.compile(r"\d+")


@dataclass(slots=True)
class CrawlOptions:
    """Everything a crawl needs. Stored in the run (minus credentials) so ``--resume`` can rebuild it."""

    start_url: str
    store_path: str | None = None
    list_urls: list[str] | None = None  # list mode: crawl exactly these URLs, follow nothing
    subdomains: bool = False
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    max_pages: int | None = None
    max_depth: int | None = None
    max_url_length: int = 2048
    max_time: float | None = None
    max_pattern_chain: int = 100
    strip_query: list[str] = field(default_factory=list)
    sitemaps: bool = True
    resources: bool = True
    check_external: bool = False
    follow_nofollow: bool = False
    ignore_robots: bool = False
    allow_private: bool = False
    user_agent: str = DEFAULT_USER_AGENT
    concurrency: int = 8
    rate: float | None = None
    retries: int = 2
    timeout: float = DEFAULT_TIMEOUT
    max_bytes: int = DEFAULT_MAX_BYTES
    http2: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    auth: tuple[str, str] | None = None
    verify_tls: bool = True
    parse_workers: int = -1  # processes parsing HTML (-1: default_parse_workers())

    def stored(self) -> dict[str, Any]:
        """The options as saved in the store: credentials and header values never are."""
        data = dataclasses.asdict(self)
        data["headers"] = sorted(self.headers)  # names only
        data["auth"] = self.auth is not None
        data.pop("list_urls")
        data.pop("store_path")
        return data

    @classmethod
    def from_stored(cls, data: dict[str, Any], **secrets: Any) -> CrawlOptions:
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known and k not in ("headers", "auth")}
        opts = cls(**kwargs)
        opts.headers = secrets.get("headers") or {}
        opts.auth = secrets.get("auth")
        return opts

    def http_settings(self) -> HttpSettings:
        return HttpSettings(
            user_agent=self.user_agent,
            timeout=self.timeout,
            max_bytes=self.max_bytes,
            http2=self.http2,
            headers=dict(self.headers),
            auth=self.auth,
            concurrency=self.concurrency,
            retries=self.retries,
            verify=self.verify_tls,
            credential_hosts=(registrable_suffix(host_of(self.start_url)) if self.subdomains else host_of(self.start_url),),
        )


@dataclass(slots=True)
class CrawlSummary:
    """What ``emaudit crawl`` reports at the end."""

    store: str
    start_url: str
    state: str  # finished | interrupted | stopped (max-time/max-pages)
    elapsed: float
    fetched: int
    pages: int
    by_status_class: dict[str, int]
    by_state: dict[str, int]
    errors: int
    queued: int
    stop_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "emaudit.crawl/1",
            "tool": {"name": "emaudit", "version": __version__},
            **dataclasses.asdict(self),
        }


@dataclass(slots=True)
class Progress:
    """Live counters (read by the progress display)."""

    fetched: int = 0
    pages: int = 0
    errors: int = 0
    queued: int = 0
    started: float = field(default_factory=time.monotonic)
    phase: str = "crawling"  # then "finalising" (indexes, inlinks, redirect chains: see Store.finalize)


class _Politeness:
    """Per-origin request spacing (``--rate`` and robots.txt crawl-delay).

    With a delay, requests to an origin take turns: each waits until ``interval`` seconds after
    the previous one actually started (a loaded event loop can only make gaps longer). The time
    of every request is remembered, even before the origin's delay is known.
    """

    def __init__(self, rate: float | None) -> None:
        self._base = 1.0 / rate if rate else 0.0
        self._interval: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def set_delay(self, origin: str, crawl_delay: float | None) -> None:
        """Set the origin's spacing, counted from now (robots.txt has just been answered)."""
        self._interval[origin] = max(self._base, min(crawl_delay or 0.0, 60.0))
        self._last[origin] = max(self._last.get(origin, 0.0), time.monotonic())

    async def wait(self, origin: str) -> None:
        interval = self._interval.get(origin, self._base)
        if interval <= 0:
            self._last[origin] = time.monotonic()
            return
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            delay = self._last.get(origin, 0.0) + interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._last[origin] = time.monotonic()


class _SeenCache:
    """Bounded LRU of URL id → the smallest depths already sent to the store: through any link,
    and through a followed one. A URL met through rel=nofollow links only is sent again when a
    followed link to it turns up (even deeper: it may now be crawled), and a followed link is
    sent again when it is shorter than the followed ones sent (an earlier one may have been
    beyond --max-depth)."""

    _MASK = (1 << 32) - 1  # one depth
    _NEVER = _MASK  # as the followed depth: no followed link sent yet

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[int, int] = OrderedDict()  # uid → followed depth << 32 | any depth

    def should_send(self, uid: int, depth: int, followed: bool = True) -> bool:
        known = self._data.get(uid)
        if known is None:
            any_depth, followed_depth = depth, depth if followed else self._NEVER
        else:
            any_depth, followed_depth = known & self._MASK, known >> 32
            if depth >= (followed_depth if followed else any_depth):
                self._data.move_to_end(uid)
                return False
            any_depth = min(any_depth, depth)
            if followed:
                followed_depth = depth
        self._data[uid] = followed_depth << 32 | any_depth
        if len(self._data) > self._size:
            self._data.popitem(last=False)
        return True


def path_pattern(url: str) -> str:
    """URL shape for trap detection: digits collapsed, query values dropped."""
    parts = urlsplit(url)
    names = "&".join(sorted({p.split("=", 1)[0] for p in parts.query.split("&") if p})) if parts.query else ""
    return _DIGITS.sub("0", parts.path) + ("?" + names if names else "")


@dataclass(slots=True)
class _PageWrite:
    url_id: int
    prepared: PreparedPage
    canonical_id: int | None
    canonical_url: str | None
    indexable: bool


@dataclass(slots=True)
class _Result:
    fetch: FetchRecord
    page: _PageWrite | None
    new: list[NewUrl]
    links: list[tuple[int, int | None, str, str | None]]  # extra link rows (redirects)
    is_page: bool
    blocked: bool = False  # robots.txt disallows it (learnt when its origin's robots.txt loaded)


class Crawler:
    """One crawl run over a store. Use :func:`run_crawl`."""

    def __init__(self, options: CrawlOptions, store: Store, *, on_progress: Callable[[Progress], None] | None = None) -> None:
        self.o = options
        self.store = store
        self.progress = Progress()
        self._on_progress = on_progress
        self._strip = tuple(options.strip_query)
        self.scope = Scope(
            start_url=options.start_url,
            subdomains=options.subdomains,
            include=[re.compile(p) for p in options.include],
            exclude=[re.compile(p) for p in options.exclude],
            max_url_length=options.max_url_length,
        )
        self._private_ok = options.allow_private or is_private_host(host_of(options.start_url))
        self._robots: dict[str, Any] = {}
        self._polite = _Politeness(options.rate)
        self._seen = _SeenCache(SEEN_CACHE)
        self._pending: list[_Result] = []
        self._last_flush = time.monotonic()
        self._stop: asyncio.Event | None = None  # created inside the loop
        self._stop_reason: str | None = None
        self._client: httpx.AsyncClient | None = None
        self._pool: ParsePool | None = None
        self._parse_slots: asyncio.Semaphore | None = None
        self._parsing: set[asyncio.Future[None]] = set()
        self._sitemaps: asyncio.Future[None] | None = None  # sitemaps read while the crawl runs
        self._deadline: float | None = None
        self.watchdog = ShutdownWatchdog()

    # ------------------------------------------------------------------ discovery
    def classify(self, url: str, *, kind: str, depth: int | None, source: int | None, source_kind: str | None,
                 redirect_depth: int = 0, chain: int = 0, follow: bool = True) -> NewUrl:
        """Decide what to do with a discovered URL (queue, block, skip, external …)."""
        uid = url_id(url)
        if not url.startswith(("http://", "https://")):
            return NewUrl(uid, url, NOT_HTTP, kind, False, depth, source, source_kind)
        internal = self.scope.is_internal(url)
        if not internal:
            state = QUEUED if self.o.check_external else EXTERNAL
            reason = self._private_reason(url)
            if reason:
                state = SKIPPED
            return NewUrl(uid, url, state, "external", False, depth, source, source_kind, redirect_depth, reason)
        reason = self._skip_reason(url, kind=kind, depth=depth, redirect_depth=redirect_depth, chain=chain, follow=follow)
        if reason == "robots":
            return NewUrl(uid, url, BLOCKED, kind, True, depth, source, source_kind, redirect_depth, reason, chain)
        state = SKIPPED if reason else QUEUED
        return NewUrl(uid, url, state, kind, True, depth, source, source_kind, redirect_depth, reason, chain)

    def _private_reason(self, url: str) -> str | None:
        if not self._private_ok and is_private_host(host_of(url)):
            return "private_address"
        return None

    def _skip_reason(self, url: str, *, kind: str, depth: int | None, redirect_depth: int, chain: int, follow: bool) -> str | None:
        reason = self.scope.excluded_reason(url) or self._private_reason(url)
        if reason:
            return reason
        if not follow:
            return "nofollow"
        if redirect_depth > MAX_REDIRECT_HOPS:
            return "redirect_limit"
        if kind == "page" and self.o.max_depth is not None and depth is not None and depth > self.o.max_depth:
            return "max_depth"
        if chain > self.o.max_pattern_chain:
            return "crawler_trap"
        if not self._robots_allows(url):
            return "robots"
        return None

    def _robots_allows(self, url: str) -> bool:
        if self.o.ignore_robots:
            return True
        robots = self._robots.get(origin_of(url))
        if robots is None:
            return True  # origin not seen yet: checked when its robots.txt is loaded (see _claim)
        return robots.can_fetch(url, self.o.user_agent)

    def _discover_refs(self, claimed: Claimed, parsed: ParsedPage) -> list[NewUrl]:
        """The new URLs a page points to (its link rows are already prepared)."""
        new: list[NewUrl] = []
        follow_page = self.o.follow_nofollow or not parsed.nofollow
        depth = (claimed.depth if claimed.depth is not None else 0) + 1
        pattern = path_pattern(claimed.url)
        list_mode = self.o.list_urls is not None
        seen = self._seen
        for uid, url, kind, nofollow in parsed.targets:
            if kind in RESOURCE_KINDS:
                if not self.o.resources or list_mode:
                    continue
                target_kind = "resource"
            elif kind in FOLLOWED_KINDS:
                target_kind = "page"
            else:
                continue
            follow = list_mode or (follow_page and (self.o.follow_nofollow or not nofollow))
            if not seen.should_send(uid, depth, follow):
                continue
            if list_mode:
                # List mode fetches exactly the list; link targets are recorded, not crawled.
                new.append(self._record_only(uid, url, depth, claimed.id, kind))
                continue
            chain = claimed.chain + 1 if target_kind == "page" and path_pattern(url) == pattern else 0
            new.append(self.classify(url, kind=target_kind, depth=depth, source=claimed.id, source_kind=kind,
                                     chain=chain, follow=follow))
        return new

    def _record_only(self, uid: int, url: str, depth: int, source: int, kind: str) -> NewUrl:
        if not url.startswith(("http://", "https://")):
            return NewUrl(uid, url, NOT_HTTP, "page", False, depth, source, kind)
        internal = self.scope.is_internal(url)
        return NewUrl(uid, url, SKIPPED if internal else EXTERNAL, "page" if internal else "external", internal,
                      depth, source, kind, 0, "list_mode" if internal else None)

    # ------------------------------------------------------------------ robots & sitemaps
    async def load_robots(self, origin: str) -> Any:
        """robots.txt of an origin: from the store (resume) or fetched (redirects followed, 5 hops)."""
        from emaudit.robots import RobotsTxt

        if origin in self._robots:
            return self._robots[origin]
        stored = self.store.robots_for(origin)
        if stored is not None:
            body = (stored["body"] or "").encode("utf-8")
            robots = RobotsTxt.from_fetch(stored["robots_url"], stored["status"], body, stored["error"])
        else:
            robots_url = origin + "/robots.txt"
            result, final_url = await self._fetch_following(robots_url, ROBOTS_MAX_BYTES + 1, hops=5)
            body = result.body[:ROBOTS_MAX_BYTES] if result.status is not None else b""
            robots = RobotsTxt.from_fetch(robots_url, result.status, result.body, result.error)
            delay = None if self.o.ignore_robots else robots.crawl_delay(self.o.user_agent)
            self.store.save_robots(origin, robots_url, result.status, result.error,
                                   body.decode("utf-8", "replace") if body else None,
                                   result.truncated or len(result.body) > ROBOTS_MAX_BYTES, final_url, delay)
        self._robots[origin] = robots
        if not self.o.ignore_robots:
            self._polite.set_delay(origin, robots.crawl_delay(self.o.user_agent))
        else:
            self._polite.set_delay(origin, None)
        return robots

    async def _fetch_following(self, url: str, max_bytes: int, hops: int) -> tuple[FetchResult, str]:
        """GET following redirects (robots.txt, sitemaps: not recorded as pages)."""
        assert self._client is not None
        current = url
        for _ in range(hops + 1):
            await self._polite.wait(origin_of(current))
            result = await fetch(self._client, current, max_bytes=max_bytes, retries=self.o.retries,
                                 max_retry_wait=30.0, deadline=self._deadline, request_timeout=self.o.timeout)
            if result.status is None or not (300 <= result.status < 400) or not result.location:
                return result, current
            target = resolve(current, result.location)
            if target is None or not target.startswith(("http://", "https://")):
                return result, current
            if self._private_reason(target):
                return result, current
            current = target
        return result, current

    async def load_sitemaps(self, robots: Any) -> None:
        """Sitemaps from robots.txt ``Sitemap:`` lines and ``/sitemap.xml``; indexes recursively."""
        if self.store.get_meta("sitemaps_done") == "1":
            return
        origin = origin_of(self.o.start_url)
        # (url, parent, level, declared): a declared sitemap (robots.txt, an index) that fails is
        # recorded as invalid; the /sitemap.xml guess answering 404 is simply absent.
        todo: list[tuple[str, str | None, int, bool]] = []
        declared = list(getattr(robots, "sitemaps", []) or [])
        for sm in declared + [origin + "/sitemap.xml"]:
            try:
                todo.append((normalise(sm), None, 0, sm in declared))
            except InvalidURL:
                continue
        seen: set[str] = set()
        while todo and len(seen) < MAX_SITEMAP_FILES and not self._stopping():
            url, parent, level, is_declared = todo.pop(0)
            if url in seen:
                continue
            seen.add(url)
            children = await self._load_one_sitemap(url, parent, is_declared)
            if level < 5:
                todo.extend((c, url, level + 1, True) for c in children if c not in seen)
        if not self._stopping():  # interrupted: --resume reads the sitemaps not read yet
            self.store.set_meta("sitemaps_done", "1")

    async def _load_one_sitemap(self, url: str, parent: str | None, declared: bool) -> list[str]:
        """Fetch and read one sitemap; its URLs go to the store in batches (a 50,000-URL file is
        never held as objects), an index's children are returned."""
        from emaudit.sitemaps import SitemapReader

        if self.store.sitemap_known(url):  # resumed after an interruption during sitemap loading
            return []
        if self._private_reason(url) or (not self.o.ignore_robots and not self._robots_allows(url)):
            return []
        result, final_url = await self._fetch_following(url, SITEMAP_MAX_BYTES, hops=5)
        if self._stopping():  # cut short by the stop (--max-time): read again on --resume, not "invalid"
            return []
        if result.status != 200:
            if declared or result.status not in (404, 410):
                self.store.batch(self.store.save_sitemap, url, parent, "invalid", result.status,
                                 result.error or f"HTTP {result.status}", 0, 0, False, [])
            return []
        reader = SitemapReader(final_url, keep_urls=False)
        children: list[str] = []
        batch: list[Any] = []
        self.store.batch(self.store.forget_sitemap_entries, url)  # a read cut short starts over
        for entry in reader.read(result.body):
            if reader.doc.kind == "sitemapindex":
                with contextlib.suppress(InvalidURL):
                    children.append(normalise(entry.loc))
                continue
            batch.append(entry)
            if len(batch) >= SITEMAP_BATCH:
                self.store.batch(self._store_entries, url, batch)
                batch = []
                await asyncio.sleep(0)  # the crawl runs meanwhile: let its fetches and writes go on
        if batch and reader.doc.kind == "urlset":
            self.store.batch(self._store_entries, url, batch)
        self.store.batch(self._save_sitemap_row, url, parent, result, reader.doc)
        return children

    def _save_sitemap_row(self, url: str, parent: str | None, result: FetchResult, doc: Any) -> None:
        problems = [p if isinstance(p, dict) else dataclasses.asdict(p) for p in (doc.problems or [])]
        self.store.save_sitemap(url, parent, doc.kind, result.status, doc.error, doc.url_count,
                                doc.uncompressed_bytes, doc.truncated, problems[:1000])

    def _store_entries(self, url: str, batch: list[Any]) -> None:
        new: list[NewUrl] = []
        entries: list[tuple[int, str | None]] = []
        for entry in batch:
            try:
                loc = normalise(entry.loc, self._strip)
            except InvalidURL:
                continue
            uid = url_id(loc)
            entries.append((uid, entry.lastmod))
            if self.o.list_urls is None:
                new.append(self.classify(loc, kind="page", depth=None, source=None, source_kind="sitemap"))
        self.store.add_urls(new)
        self.store.add_sitemap_entries(url, entries)
        self.store.mark_in_sitemap(uid for uid, _ in entries)

    # ------------------------------------------------------------------ fetching
    async def _process(self, claimed: Claimed) -> _Result | FetchResult:
        """Fetch one URL and turn the response into store rows.

        An HTML page is returned as its FetchResult, once a parse slot is free: the fetch slot
        moves on while the page is parsed (in the parse worker) by :meth:`_finish`.
        """
        assert self._client is not None
        origin = origin_of(claimed.url)
        if claimed.internal and origin not in self._robots:
            await self.load_robots(origin)
        # Always asked (a cached decision): the start URL was queued before robots.txt was read.
        if claimed.internal and not self._robots_allows(claimed.url):
            return self._blocked(claimed)
        await self._polite.wait(origin)
        result = await self._fetch_claimed(claimed)
        if claimed.kind == "page" and result.status == 200 and _is_html(result):
            assert self._parse_slots is not None
            await self._parse_slots.acquire()  # back-pressure: bounded bodies waiting for the parser
            return result
        return self._to_result(claimed, result)

    async def _finish(self, claimed: Claimed, result: FetchResult, results: asyncio.Queue[_Result],
                      in_flight: set[int]) -> None:
        """Parse a fetched page and hand its rows to the writer."""
        try:
            try:
                parsed = await self._parse_async(claimed.url, result)
                res = self._to_result(claimed, result, parsed)
            except Exception as exc:  # noqa: BLE001 - a bug or hostile input must not stop the crawl
                res = self._failed(claimed, exc)
            results.put_nowait(res)
        finally:
            assert self._parse_slots is not None
            self._parse_slots.release()
            in_flight.discard(claimed.id)

    async def _fetch_claimed(self, claimed: Claimed) -> FetchResult:
        """Pages: GET with the body kept. Resources: GET, body counted then dropped. External
        links (--check-external): HEAD, then GET when the server does not answer HEAD properly."""
        assert self._client is not None
        common = dict(retries=self.o.retries, deadline=self._deadline, request_timeout=self.o.timeout)
        if claimed.kind == "external":
            result = await fetch(self._client, claimed.url, method="HEAD", **common)
            if result.status is not None and result.status not in (400, 403, 404, 405, 406, 500, 501, 503):
                return result
            await self._polite.wait(origin_of(claimed.url))
            return await fetch(self._client, claimed.url, max_bytes=65536, keep_body=False, **common)
        return await fetch(self._client, claimed.url, max_bytes=self.o.max_bytes, keep_body=claimed.kind == "page",
                           **common)

    async def _parse_async(self, url: str, r: FetchResult) -> ParsedPage:
        """Parse in the worker process pool when there is one (the second core), else here."""
        args = (r.body, url, r.content_type, r.headers, self._strip)
        if self._pool is not None and self._pool.alive:
            try:
                return await self._pool.parse(*args)
            except WorkerDied:
                pass  # a worker was killed (OOM killer?): carry on in-process
        return parse_page(*args)

    def _failed(self, claimed: Claimed, exc: Exception) -> _Result:
        """The URL is recorded as an ``internal`` error (the crawl goes on)."""
        error = f"{type(exc).__name__}: {exc}"[:500]
        rec = FetchRecord(claimed.id, None, "internal", error, None, None, None, 0, False, 0.0, None, 1, {}, time.time())
        return _Result(rec, None, [], [], is_page=claimed.kind == "page")

    def _blocked(self, claimed: Claimed) -> _Result:
        rec = FetchRecord(claimed.id, None, None, None, None, None, None, 0, False, 0.0, None, 0, {}, time.time())
        return _Result(rec, None, [], [], is_page=False, blocked=True)

    def _to_result(self, claimed: Claimed, r: FetchResult, parsed: ParsedPage | None = None) -> _Result:
        new: list[NewUrl] = []
        links: list[tuple[int, int | None, str, str | None]] = []
        redirect_id = None
        if r.status is not None and 300 <= r.status < 400 and r.location is not None:
            redirect_id, extra_new = self._follow_redirect(claimed, r.location)
            links.append((claimed.id, redirect_id, LINK_REDIRECT, r.location))
            new.extend(extra_new)
        rec = FetchRecord(
            id=claimed.id, status=r.status, error_kind=r.error_kind, error=r.error, location=r.location,
            redirect_id=redirect_id, content_type=r.content_type, bytes=r.size, truncated=r.truncated,
            response_ms=r.elapsed_ms, http_version=r.http_version, attempts=r.attempts, headers=r.headers,
            fetched_at=time.time(),
        )
        page = None
        if parsed is not None:
            page = self._page_row(claimed, parsed)
            new.extend(self._discover_refs(claimed, parsed))
        return _Result(rec, page, new, links, is_page=claimed.kind == "page")

    def _follow_redirect(self, claimed: Claimed, location: str) -> tuple[int | None, list[NewUrl]]:
        target = resolve(claimed.url, location, self._strip)
        if target is None:
            return None, []
        uid = url_id(target)
        kind = claimed.kind if claimed.kind != "external" else "external"
        if self.o.list_urls is not None and not self.scope.is_internal(target):
            return uid, [self._record_only(uid, target, claimed.depth or 0, claimed.id, LINK_REDIRECT)]
        nu = self.classify(target, kind="page" if kind == "page" else kind, depth=claimed.depth,
                           source=claimed.id, source_kind=LINK_REDIRECT, redirect_depth=claimed.redirect_depth + 1)
        if kind == "external" and nu.state == EXTERNAL and self.o.check_external:
            nu.state = QUEUED
        return uid, [nu]

    def _page_row(self, claimed: Claimed, parsed: ParsedPage) -> _PageWrite:
        canonical_url = parsed.canonical_url
        indexable = not parsed.noindex and (canonical_url is None or canonical_url == claimed.url)
        if indexable and not self.o.ignore_robots and not self._robots_allows(claimed.url):
            indexable = False
        canonical_id = url_id(canonical_url) if canonical_url else None
        return _PageWrite(claimed.id, parsed.prepared, canonical_id, canonical_url, indexable)

    # ------------------------------------------------------------------ writing
    def _flush(self, force: bool = False) -> None:
        if not self._pending:
            return
        if not force and len(self._pending) < WRITE_BATCH and time.monotonic() - self._last_flush < WRITE_INTERVAL:
            return
        pending, self._pending = self._pending, []
        self.store.batch(self._write_results, pending)
        self._last_flush = time.monotonic()

    def _write_results(self, results: list[_Result]) -> None:
        for res in results:
            self.store.add_urls(res.new)
            if res.blocked:
                self.store.mark_blocked(res.fetch.id)
                continue
            self.store.record_fetch(res.fetch)
            for src, dst, kind, raw in res.links:
                self.store.add_link(src, dst, kind, raw)
            if res.page is not None:
                p = res.page
                self.store.record_prepared(p.url_id, p.prepared, p.canonical_id, p.canonical_url, p.indexable)

    # ------------------------------------------------------------------ the loop
    def _stopping(self) -> bool:
        if self._stop is None:
            return False
        if self._deadline is not None and not self._stop.is_set() and time.monotonic() >= self._deadline:
            self.request_stop("max_time")  # noticed here too: a sitemap read must not outlive it
        return self._stop.is_set()

    def request_stop(self, reason: str) -> None:
        if self._stop_reason is None:
            self._stop_reason = reason
        if self._stop is not None:
            self._stop.set()

    async def _until_stopped(self, coro: Any) -> None:
        """Run ``coro`` but give up on it as soon as a stop is requested (a slow robots.txt or
        sitemap must not hold Ctrl-C for a whole request timeout)."""
        assert self._stop is not None
        work = asyncio.ensure_future(coro)
        stop = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not work.done():
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
        if work.done() and not work.cancelled() and work.exception() is not None:
            raise work.exception()  # type: ignore[misc]

    async def run(self) -> str:
        """Crawl until the frontier is empty or a limit/signal stops it. Returns the stop reason."""
        self._stop = asyncio.Event()
        if self._stop_reason is not None:  # a signal arrived before the loop started this task
            self._stop.set()
        if self.o.max_time:
            self._deadline = time.monotonic() + self.o.max_time
        if not self._private_ok:
            self._private_ok = await _resolves_to_private(host_of(self.o.start_url))
        settings = self.o.http_settings()
        settings.block_private = not self._private_ok
        self._pool = await self._start_pool()
        try:
            async with make_async_client(settings, lanes=self.o.concurrency) as client:
                self._client = client
                try:
                    await self._until_stopped(self._seed())
                    await self._loop()
                finally:
                    self._flush(force=True)
        finally:
            if self._pool is not None:
                await self._pool.close()
        return self._stop_reason or "finished"

    async def _start_pool(self) -> ParsePool | None:
        workers = self.o.parse_workers
        if workers < 0:
            workers = default_parse_workers()
        if workers == 0 or self.o.list_urls is not None and len(self.o.list_urls) < 50:
            return None
        try:
            return await ParsePool.start(workers)
        except OSError:
            return None  # cannot start a process here: parse in-process

    async def _seed(self) -> None:
        """robots.txt of the start origin first (its rules and Sitemap: lines), then the sitemaps
        in the background: the crawl starts at once instead of after every sitemap was read (a
        big sitemap index, or a dead sitemap URL retried for seconds). Crawl order does not change:
        URLs known only from sitemaps wait until the links are exhausted, and the crawl ends only
        once the sitemaps are read (:meth:`_sitemaps_pending`)."""
        start_origin = origin_of(self.o.start_url)
        robots = await self.load_robots(start_origin)
        if self.o.sitemaps and not self._stopping():
            self._sitemaps = asyncio.ensure_future(self.load_sitemaps(robots))

    def _sitemaps_pending(self) -> bool:
        """Whether the sitemaps are still being read; an error of theirs (a store that cannot be
        written) is raised here, in the crawl loop."""
        task = self._sitemaps
        if task is None:
            return False
        if not task.done():
            return True
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
        return False

    async def _stop_sitemaps(self) -> None:
        """Cancel a sitemap read still running (the crawl stopped). Its error, if it had one, is
        taken here: the crawl is already ending, with its own reason."""
        task = self._sitemaps
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _loop(self) -> None:
        # Claims come in batches of at least half the queue: a claim is a transaction of its own,
        # and one per eight pages cost ~0.15 ms a page.
        queue: asyncio.Queue[Claimed] = asyncio.Queue(maxsize=max(self.o.concurrency * 4, CLAIM_QUEUE))
        in_flight: set[int] = set()
        results: asyncio.Queue[_Result] = asyncio.Queue()
        self._parse_slots = asyncio.Semaphore(self.o.concurrency * 2)
        workers = [asyncio.create_task(self._worker(queue, results, in_flight, n)) for n in range(self.o.concurrency)]
        try:
            await self._feed(queue, results, in_flight)
        finally:
            await self._stop_sitemaps()  # stopped early: --resume reads the sitemaps not read yet
            cancelled = list(in_flight)  # fetches cut short: back to the frontier, not left 'fetching'
            tasks = workers + list(self._parsing)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._drain(results)
            leftover = [c.id for c in _drain_queue(queue)] + cancelled
            self._flush(force=True)
            if leftover:
                self.store.release(leftover)

    async def _worker(self, queue: asyncio.Queue[Claimed], results: asyncio.Queue[_Result], in_flight: set[int],
                      lane: int) -> None:
        use_lane(lane)  # this worker's own small connection pool (see http._LaneTransport)
        while True:
            claimed = await queue.get()
            in_flight.add(claimed.id)
            handed_off = False
            try:
                try:
                    res = await self._process(claimed)
                except Exception as exc:  # noqa: BLE001 - a bug or hostile input must not kill the worker
                    res = self._failed(claimed, exc)
                if isinstance(res, FetchResult):
                    task = asyncio.ensure_future(self._finish(claimed, res, results, in_flight))
                    self._parsing.add(task)
                    task.add_done_callback(self._parsing.discard)
                    handed_off = True
                else:
                    results.put_nowait(res)
            finally:
                if not handed_off:
                    in_flight.discard(claimed.id)
                queue.task_done()

    def _drain(self, results: asyncio.Queue[_Result]) -> None:
        while not results.empty():
            res = results.get_nowait()
            self._count(res)
            self._pending.append(res)

    def _count(self, res: _Result) -> None:
        p = self.progress
        if res.blocked:
            return
        p.fetched += 1
        if res.is_page:
            p.pages += 1
        if res.fetch.status is None:
            p.errors += 1

    async def _feed(self, queue: asyncio.Queue[Claimed], results: asyncio.Queue[_Result], in_flight: set[int]) -> None:
        pages_done = self.store.fetched_pages()
        self.progress.pages = pages_done
        idle_rounds = 0
        while not self._stopping():
            sitemaps_pending = self._sitemaps_pending()
            self._drain(results)
            self._flush()
            if self._stopping():  # --max-time reached during the drain (_stopping() notices it)
                break
            room = queue.maxsize - queue.qsize()
            claimed: list[Claimed] = []
            if room >= queue.maxsize // 2:
                pages_ok = self.o.max_pages is None or self.progress.pages + queue.qsize() + len(in_flight) < self.o.max_pages
                limit = room if self.o.max_pages is None else max(0, min(room, self.o.max_pages - self.progress.pages - queue.qsize() - len(in_flight)))
                count = limit if pages_ok else room
                claimed = self.store.claim(count, pages=pages_ok, sitemap_only=False)
                if not claimed and queue.empty() and not in_flight and results.empty() and not self._pending:
                    claimed = self.store.claim(count, pages=pages_ok, sitemap_only=True)
                for c in claimed:
                    queue.put_nowait(c)
            if claimed:
                idle_rounds = 0
            elif queue.empty() and not in_flight and results.empty():
                if self._pending:
                    self._flush(force=True)
                    continue
                if sitemaps_pending:
                    await self._wait_for_work(results, also=self._sitemaps)
                    continue
                if idle_rounds >= 1:
                    if self.o.max_pages is not None and self.progress.pages >= self.o.max_pages and self.store.queued_count():
                        self._stop_reason = "max_pages"
                    break
                idle_rounds += 1
                continue
            if self._on_progress is not None:
                self.progress.queued = queue.qsize()
                self._on_progress(self.progress)
            await self._wait_for_work(results)

    async def _wait_for_work(self, results: asyncio.Queue[_Result], also: asyncio.Future[Any] | None = None) -> None:
        """Sleep until a result arrives, ``also`` is done or a short tick passes (back-pressure
        on the writer)."""
        if not results.empty():
            await asyncio.sleep(0)
            return
        get = asyncio.ensure_future(results.get())
        stop = asyncio.ensure_future(self._stop.wait()) if self._stop is not None else None
        waiters = [get] + ([stop] if stop else []) + ([also] if also is not None else [])
        done, pending = await asyncio.wait(waiters, timeout=0.05, return_when=asyncio.FIRST_COMPLETED)
        for fut in pending:
            if fut is not also:
                fut.cancel()
        if get in done:
            res = get.result()
            self._count(res)
            self._pending.append(res)


def default_parse_workers() -> int:
    """Parse processes when none are asked for: two as soon as there is a second core.

    Measured on 2 cores (the bench's 5,307-page site, nginx on the same machine, 2026-12-04):
    one parse process 11.8 s and 74 MB PSS for the whole crawl, two 10.8 s and 93 MB. The
    crawler process is busy ~75 % of the time, so a third process fills the gaps. More than two
    do not help: the crawler process itself (HTTP, SQLite, ~1.25 ms a page) is then the limit.
    """
    return 2 if usable_cpus() > 1 else 0


def _drain_queue(queue: asyncio.Queue[Claimed]) -> list[Claimed]:
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


def _is_html(r: FetchResult) -> bool:
    ct = (r.content_type or "").lower()
    if "text/html" in ct or "application/xhtml+xml" in ct:
        return True
    if ct:
        return False
    head = r.body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


# ---------------------------------------------------------------------- entry points
def default_store_path(start_url: str, now: float | None = None) -> str:
    host = host_of(start_url).replace(":", "_").replace("[", "").replace("]", "") or "site"
    port = urlsplit(start_url).port
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return f"{host}{'_' + str(port) if port else ''}-{stamp}.emaudit.db"


def prepare_start(options: CrawlOptions) -> CrawlOptions:
    """Normalise and check the start URL (and list); raises UsageError."""
    raw = options.start_url.strip()
    if "://" not in raw:
        raw = "https://" + raw
    try:
        options.start_url = normalise(raw, tuple(options.strip_query))
    except InvalidURL as exc:
        raise UsageError(f"invalid start URL {options.start_url!r}: {exc}") from exc
    for pattern in options.include + options.exclude:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise UsageError(f"invalid regular expression {pattern!r}: {exc}") from exc
    return options


def run_crawl(
    options: CrawlOptions,
    *,
    resume: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    handle_signals: bool = True,
) -> CrawlSummary:
    """Crawl (or resume) into a store and return the summary.

    Raises :class:`Interrupted` after a signal (everything fetched is saved),
    :class:`UnreachableError` when the start URL could not be fetched or is disallowed.
    """
    if resume:
        store = Store.open(resume, readonly=False)
        info = store.run_info()
        if info["state"] == "finished":
            store.close()
            raise UsageError(f"the crawl in {resume} is already finished; nothing to resume")
        options = CrawlOptions.from_stored(info["options"], headers=options.headers, auth=options.auth)
        options.store_path = resume
        stored_list = store.get_meta("list_mode")
        options.list_urls = [] if stored_list == "1" else None
        store.requeue_unfinished()
    else:
        options = prepare_start(options)
        options.store_path = options.store_path or default_store_path(options.start_url)
        store = Store.create(options.store_path)
        try:
            _initialise(store, options)
        except BaseException:
            store.close()
            raise
    crawler = Crawler(options, store, on_progress=on_progress)
    started = time.monotonic()
    reason = "finished"
    try:
        reason = _run_loop(crawler, handle_signals)
    finally:
        elapsed = time.monotonic() - started
        state = "interrupted" if reason == "interrupted" else ("finished" if reason == "finished" else "stopped")
        finalising = state != "interrupted"  # Ctrl-C leaves at once; an audit finalises the partial store
        try:
            if finalising:
                crawler.progress.phase = "finalising"
                if on_progress is not None:
                    on_progress(crawler.progress)
                if not _finalize(store, handle_signals):
                    state = reason = "interrupted"
            store.set_run_state(state, elapsed_add=elapsed)
            summary = _summary(store, options, state, reason)
        finally:
            store.close()
            crawler.watchdog.disarm()  # stopped cleanly: a library caller goes on living
    if reason == "interrupted":
        when = " while finalising the store (indexes, inlink counts)" if finalising else ""
        raise Interrupted(f"interrupted{when}: {summary.fetched} URLs saved in {summary.store};"
                          f" continue with: emaudit crawl --resume {summary.store}")
    _check_start(summary, options)
    return summary


def _initialise(store: Store, options: CrawlOptions) -> None:
    mode = "list" if options.list_urls is not None else "crawl"
    store.start_run(options.start_url, mode, options.stored(), options.user_agent, __version__)
    store.set_meta("list_mode", "1" if options.list_urls is not None else "0")
    seeds = options.list_urls if options.list_urls is not None else [options.start_url]
    crawler = Crawler(options, store)
    new: list[NewUrl] = []
    for raw in seeds:
        try:
            url = normalise(raw.strip() if "://" in raw else "https://" + raw.strip(), tuple(options.strip_query))
        except InvalidURL:
            continue
        nu = crawler.classify(url, kind="page", depth=0, source=None, source_kind="start" if mode == "crawl" else "list")
        if not nu.internal and options.list_urls is not None:
            nu = NewUrl(nu.id, url, QUEUED, "page", True, 0, None, "list")
        new.append(nu)
    if not new:
        raise UsageError("no valid URL to crawl")
    store.batch(store.add_urls, new)


def _finalize(store: Store, handle_signals: bool) -> bool:
    """``store.finalize()``, stopped within milliseconds by Ctrl-C or SIGTERM: its index sorts
    run for seconds on a big store (minutes at a million pages), and a signal's Python handler
    waits for the running SQLite statement to end. Returns False when a signal stopped it
    (nothing changed; the store stays unfinalised). A signal after the last statement leaves it
    finalised all the same: the crawl is over."""
    if not handle_signals:
        return store.finalize()
    with signals_as_flag() as asked:
        return store.finalize(should_stop=asked)


def _on_signal(crawler: Crawler) -> None:
    """First Ctrl-C/SIGTERM: stop cleanly and save, within :data:`SHUTDOWN_GRACE` seconds (a
    watchdog thread leaves if the clean stop hangs). A second one: leave at once (what was
    committed stays; SQLite's WAL keeps the store consistent)."""
    if crawler._stop_reason == "interrupted":
        _leave_now("interrupted again: leaving now; resume with --resume")
    crawler.request_stop("interrupted")
    crawler.watchdog.arm(SHUTDOWN_GRACE)


def _leave_now(message: str) -> None:
    sys.stderr.write(f"emaudit: error: {message}\n")
    sys.stderr.flush()
    os._exit(130)


class ShutdownWatchdog:
    """Leaves the process (exit 130) if a stopping crawl is still running ``seconds`` after the
    signal, unless :meth:`disarm` is called first.

    A clean stop takes well under a second (cancel the fetches, commit the pending results,
    close the parse processes); this bounds the rare stop that hangs (a stuck connection close,
    a child that does not exit), so that a crawl run from cron can never linger after Ctrl-C or
    SIGTERM. What was committed stays, and ``--resume`` continues from it. A thread, not the
    event loop: it must fire even when the loop is what is stuck.
    """

    def __init__(self) -> None:
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> None:
        if self._thread is not None or self._done.is_set():
            return

        def watch() -> None:
            if self._done.wait(seconds):
                return
            if os.environ.get("EMAUDIT_DEBUG") == "1":  # --debug: where it was stuck, every thread
                import faulthandler

                faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
            _leave_now(f"the crawl did not stop within {seconds:g} s of the signal: leaving now; resume with --resume")

        self._thread = threading.Thread(target=watch, name="emaudit-shutdown-watchdog", daemon=True)
        self._thread.start()

    def disarm(self) -> None:
        self._done.set()


def _run_loop(crawler: Crawler, handle_signals: bool) -> str:
    loop = asyncio.new_event_loop()
    main = loop.create_task(crawler.run())
    installed = []
    if handle_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                previous = signal.getsignal(sig)
                if previous is signal.SIG_IGN:  # ignored (a background job of a script): stays so
                    continue
                loop.add_signal_handler(sig, _on_signal, crawler)
                installed.append((sig, previous))
            except (NotImplementedError, RuntimeError, ValueError):
                pass
    try:
        return loop.run_until_complete(main)
    except KeyboardInterrupt:
        crawler.request_stop("interrupted")
        return loop.run_until_complete(main)
    finally:
        for sig, previous in installed:
            loop.remove_signal_handler(sig)
            if previous is not None:
                signal.signal(sig, previous)  # asyncio resets to the default: put the caller's handler back
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _summary(store: Store, options: CrawlOptions, state: str, reason: str) -> CrawlSummary:
    counts = store.counts()
    info = store.run_info()
    errors = store.error_count()
    return CrawlSummary(
        store=options.store_path or store.path,
        start_url=options.start_url,
        state=state,
        elapsed=round(info["elapsed"], 3),
        fetched=counts["by_state"].get("done", 0),
        pages=counts["pages"],
        by_status_class=counts["by_status_class"],
        by_state=counts["by_state"],
        errors=errors,
        queued=counts["by_state"].get("queued", 0),
        stop_reason=None if reason == "finished" else reason,
    )


async def _resolves_to_private(host: str) -> bool:
    """Whether the start host resolves to a non-public address (a staging server by name): that
    crawl is private, as one started on an IP literal is, and its private links are allowed."""
    if not host:
        return False
    try:
        addresses = await netbackend.resolve(host.strip("[]"), None, 10)
    except (httpcore.ConnectError, httpcore.ConnectTimeout):
        return False  # unresolvable here (a proxy may resolve it): the public policy applies
    return any(is_private_ip(address) for address in addresses)


def _check_start(summary: CrawlSummary, options: CrawlOptions) -> None:
    if options.list_urls is not None:
        return
    with Store.open(summary.store) as store:
        rec = store.get(options.start_url)
        robots = store.robots_for(origin_of(options.start_url))
    if rec is None:
        return
    if rec.state == BLOCKED and robots is not None and robots["status"] is None and robots["error"]:
        # RFC 9309: an unreachable robots.txt disallows everything; the real news is the server.
        raise UnreachableError(f"cannot reach {options.start_url}: {robots['error']}; store: {summary.store}")
    if rec.state == BLOCKED:
        raise UnreachableError(f"robots.txt disallows the start URL {options.start_url} for our user agent (use --ignore-robots to crawl anyway); store: {summary.store}")
    if rec.state == "done" and rec.status is None and rec.error_kind in ("dns", "connect", "tls", "timeout", "reset", "invalid_url"):
        raise UnreachableError(f"cannot reach {options.start_url}: {rec.error}; store: {summary.store}")


__all__ = ["CrawlOptions", "CrawlSummary", "Crawler", "Progress", "StoreError", "default_store_path", "run_crawl"]
