"""The crawl store: one SQLite file per crawl, the only module that issues SQL.

A store holds one crawl (a snapshot of a site at a time): the run, robots.txt per origin, every
URL met (fetched or not, with why not), page facts, links and sitemap entries. The frontier
lives here too (``urls.state = 'queued'``), so memory stays flat whatever the site size and an
interrupted crawl can be resumed. Later features (diff, watch, benchmark, HTML report) compare
or read stores through the read API at the bottom of this module.

URL identity: ``urls.id`` is a 63-bit hash of the normalised URL (:func:`emaudit.urls.url_id`),
so links are written as integer pairs without a look-up per link.

Schema changes bump :data:`SCHEMA_VERSION`; opening a store of another version is an error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import itertools
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emaudit.errors import StoreError, StoreWriteError
from emaudit.models import FOLLOWED_KINDS, PageFacts, Ref
from emaudit.system import usable_cpus

SCHEMA_VERSION = 1
APPLICATION_ID = 0x454D4155  # "EMAU": marks the file as an emaudit store

# URL states
QUEUED = "queued"  # in the frontier
FETCHING = "fetching"  # claimed by a worker (reset to queued on resume)
DONE = "done"  # fetched (status or error recorded)
BLOCKED = "blocked"  # disallowed by robots.txt, not fetched
SKIPPED = "skipped"  # in scope but not fetched (skip_reason says why)
EXTERNAL = "external"  # out of scope, not fetched (fetched when --check-external: then DONE)
NOT_HTTP = "not_http"  # mailto:, tel:, ftp: … recorded, never fetched

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE run (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    start_url TEXT NOT NULL,
    mode TEXT NOT NULL,
    options TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    state TEXT NOT NULL,
    elapsed REAL NOT NULL DEFAULT 0,
    stats TEXT
);
CREATE TABLE origins (
    origin TEXT PRIMARY KEY,
    robots_url TEXT NOT NULL,
    robots_status INTEGER,
    robots_error TEXT,
    robots_body TEXT,
    robots_truncated INTEGER NOT NULL DEFAULT 0,
    robots_final_url TEXT,
    crawl_delay REAL,
    fetched_at REAL
);
CREATE TABLE urls (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL,
    kind TEXT NOT NULL,
    internal INTEGER NOT NULL,
    depth INTEGER,
    prio INTEGER NOT NULL,
    chain INTEGER NOT NULL DEFAULT 0,
    source_id INTEGER,
    source_kind TEXT,
    redirect_depth INTEGER NOT NULL DEFAULT 0,
    in_sitemap INTEGER NOT NULL DEFAULT 0,
    skip_reason TEXT,
    status INTEGER,
    error_kind TEXT,
    error TEXT,
    location TEXT,
    redirect_id INTEGER,
    final_id INTEGER,
    final_status INTEGER,
    redirect_hops INTEGER,
    redirect_loop INTEGER,
    content_type TEXT,
    bytes INTEGER,
    truncated INTEGER,
    response_ms REAL,
    http_version TEXT,
    attempts INTEGER,
    headers TEXT,
    fetched_at REAL,
    inlinks INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX urls_frontier ON urls (prio, seq) WHERE state = 'queued';
CREATE INDEX urls_state ON urls (state, internal);
CREATE TABLE pages (
    url_id INTEGER PRIMARY KEY,
    title TEXT,
    title_key TEXT,
    title_count INTEGER NOT NULL,
    description TEXT,
    description_key TEXT,
    description_count INTEGER NOT NULL,
    h1 TEXT,
    h1_key TEXT,
    h1_count INTEGER NOT NULL,
    word_count INTEGER NOT NULL,
    content_hash TEXT,
    simhash INTEGER,
    canonical_id INTEGER,
    canonical_url TEXT,
    noindex INTEGER NOT NULL,
    nofollow INTEGER NOT NULL,
    indexable INTEGER NOT NULL,
    lang TEXT,
    facts TEXT NOT NULL
);
CREATE TABLE links (
    src INTEGER NOT NULL,
    dst INTEGER,
    kind TEXT NOT NULL,
    anchor TEXT,
    rel TEXT,
    nofollow INTEGER NOT NULL DEFAULT 0,
    alt TEXT,
    raw TEXT,
    extra TEXT
);
CREATE TABLE sitemaps (
    url TEXT PRIMARY KEY,
    parent TEXT,
    kind TEXT,
    status INTEGER,
    error TEXT,
    url_count INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    truncated INTEGER NOT NULL DEFAULT 0,
    problems TEXT,
    fetched_at REAL
);
CREATE TABLE sitemap_entries (
    url_id INTEGER NOT NULL,
    sitemap TEXT NOT NULL,
    lastmod TEXT
);
CREATE INDEX sitemap_entries_url ON sitemap_entries (url_id);
"""

# SQLite page cache per connection: bounded memory, the OS caches the rest. 8 MB bought nothing
# measurable over 2 MB (50k-page crawl 112 s either way, 50k audit 19 s) and cost ~6 MB in the
# crawler and in each audit process.
CACHE_KIB = 2000

# Indexes only needed by the audit: built once at the end of the crawl (a sort is far cheaper
# than ~100 random index insertions per page), dropped again when a crawl resumes.
_AUDIT_INDEXES = {
    "links_src": "links (src)",
    # src included: inlink counts and "pages linking here" are read from the index alone
    # (COUNT(DISTINCT src) per URL costs 0.06 s at 5k pages instead of 0.7 s with table look-ups).
    "links_dst": "links (dst, kind, src)",
    "pages_title": "pages (title_key) WHERE indexable = 1",
    "pages_description": "pages (description_key) WHERE indexable = 1",
    "pages_h1": "pages (h1_key) WHERE indexable = 1",
    "pages_content": "pages (content_hash) WHERE indexable = 1",
    # A page's flags without its row: a pages row carries the facts JSON (~1 row per 4 KB leaf
    # page), so reading flags from the table touches one page per row. Covered by this index:
    # link-target and URL-state look-ups (a LEFT JOIN on url_id), simhashes, COUNT(*). At 100k
    # pages: COUNT(*) 5.4 s on a cold OS cache (the first audit after a crawl) → 0.01 s, 20,000
    # random target look-ups 0.94 → 0.09 s, URL states 1.2 → 0.27 s; built in ~0.15 s. A warm
    # audit's time does not move measurably (its page pass, reading every facts row, dominates).
    "pages_flags": "pages (url_id, indexable, noindex, canonical_url, simhash, content_hash)",
}

# Insert a discovered URL. When it is already known: a shorter click depth found later (BFS
# batches, or a sitemap-only URL then found by a link) replaces the one known, with its source;
# a URL skipped for max_depth or nofollow is queued again when the new link may be followed
# (found closer to the start, or through a followed link at any depth: a page linking to /x
# first with rel=nofollow, then without, gets /x crawled). Sitemap rows (no depth) never change
# a known URL.
_CLOSER = "(urls.depth IS NULL OR excluded.depth < urls.depth)"
_REOPENED = "(urls.skip_reason IN ('max_depth', 'nofollow') AND excluded.state = 'queued')"
_URL_INSERT = (
    "INSERT INTO urls (id, url, seq, state, kind, internal, depth, prio, chain, source_id, source_kind,"
    " redirect_depth, skip_reason) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
    f" ON CONFLICT (id) DO UPDATE SET depth = CASE WHEN {_CLOSER} THEN excluded.depth ELSE urls.depth END,"
    f" prio = CASE WHEN {_CLOSER} THEN excluded.prio ELSE urls.prio END,"
    f" source_id = CASE WHEN {_CLOSER} THEN excluded.source_id ELSE urls.source_id END,"
    f" source_kind = CASE WHEN {_CLOSER} THEN excluded.source_kind ELSE urls.source_kind END,"
    f" state = CASE WHEN {_REOPENED} THEN 'queued' ELSE urls.state END,"
    f" skip_reason = CASE WHEN {_REOPENED} THEN NULL ELSE urls.skip_reason END"
    f" WHERE excluded.depth IS NOT NULL AND ({_CLOSER} OR {_REOPENED})"
)
SITEMAP_PRIO = 1 << 30  # sitemap-only URLs are crawled after everything reachable by links
_FETCH_UPDATE = (
    "UPDATE urls SET state = ?, status = ?, error_kind = ?, error = ?, location = ?, redirect_id = ?,"
    " content_type = ?, bytes = ?, truncated = ?, response_ms = ?, http_version = ?, attempts = ?,"
    " headers = ?, fetched_at = ? WHERE id = ?"
)
_PAGE_INSERT = (
    "INSERT OR REPLACE INTO pages (url_id, canonical_id, canonical_url, indexable, title, title_key, title_count,"
    " description, description_key, description_count, h1, h1_key, h1_count, word_count, content_hash, simhash,"
    " noindex, nofollow, lang, facts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_LINK_INSERT = "INSERT INTO links (src, dst, kind, anchor, rel, nofollow, alt, raw, extra) VALUES (?,?,?,?,?,?,?,?,?)"


def text_key(value: str | None) -> str | None:
    """Grouping key for duplicate detection: whitespace-normalised, case-insensitive."""
    if value is None:
        return None
    key = " ".join(value.split()).casefold()
    return key or None


@dataclass(slots=True)
class NewUrl:
    """A URL discovered by the crawler, to insert if unseen."""

    id: int
    url: str
    state: str
    kind: str
    internal: bool
    depth: int | None  # click depth; None = not reached by links (sitemap only)
    source_id: int | None
    source_kind: str | None
    redirect_depth: int = 0
    skip_reason: str | None = None
    chain: int = 0  # consecutive same-pattern discoveries (crawler-trap guard)


@dataclass(slots=True, frozen=True)
class Claimed:
    """A frontier URL handed to a worker."""

    id: int
    url: str
    kind: str
    depth: int | None
    redirect_depth: int
    internal: bool
    chain: int


@dataclass(slots=True)
class FetchRecord:
    """What the crawler learnt by fetching one URL."""

    id: int
    status: int | None
    error_kind: str | None
    error: str | None
    location: str | None
    redirect_id: int | None
    content_type: str | None
    bytes: int
    truncated: bool
    response_ms: float
    http_version: str | None
    attempts: int
    headers: dict[str, str]
    fetched_at: float


@dataclass(slots=True)
class PageRow:
    """A page's facts ready to store (computed by the crawler from PageFacts)."""

    url_id: int
    facts: PageFacts
    canonical_id: int | None
    canonical_url: str | None
    indexable: bool
    refs: list[tuple[int | None, Ref]]  # (target url id, ref)


@dataclass(slots=True)
class PreparedPage:
    """A page's row values, computed away from the writer (the crawler's parse worker)."""

    values: tuple[Any, ...]  # pages columns from title to facts (see _PAGE_INSERT)
    link_rows: list[tuple[Any, ...]]  # links columns without src


def prepare_page(facts: PageFacts, refs: Sequence[tuple[int | None, Ref]]) -> PreparedPage:
    """Turn facts and (target id, ref) pairs into row values: pure, picklable, no SQL."""
    h1s = facts.h1s
    values = (
        facts.title,
        text_key(facts.title),
        len(facts.titles),
        facts.meta_description,
        text_key(facts.meta_description),
        len(facts.meta_descriptions),
        h1s[0] if h1s else None,
        text_key(h1s[0]) if h1s else None,
        len(h1s),
        facts.word_count,
        facts.content_hash,
        facts.simhash,
        int(facts.noindex),
        int(facts.nofollow),
        facts.html_lang,
        json.dumps(facts.to_json_dict(), ensure_ascii=False, separators=(",", ":")),
    )
    link_rows = [
        (
            dst,
            r.kind,
            r.anchor or None,
            r.rel or None,
            int(r.nofollow),
            r.alt,
            # The raw href only where it adds something: it differs from the URL, or the target
            # may not be in urls (a resource the crawl does not check, an iframe, a form), where
            # it is then the only place the page's reference survives.
            r.raw if (r.raw is not None and (r.raw != r.url or r.kind not in FOLLOWED_KINDS)) else None,
            json.dumps(r.extra, ensure_ascii=False) if r.extra else None,
        )
        for dst, r in refs
    ]
    return PreparedPage(values, link_rows)


@dataclass(slots=True)
class UrlRecord:
    """One row of ``urls`` (read API)."""

    id: int
    url: str
    state: str
    kind: str
    internal: bool
    depth: int | None
    source_id: int | None
    source_kind: str | None
    in_sitemap: bool
    skip_reason: str | None
    status: int | None
    error_kind: str | None
    error: str | None
    location: str | None
    redirect_id: int | None
    final_id: int | None
    final_status: int | None
    redirect_hops: int | None
    redirect_loop: bool
    content_type: str | None
    bytes: int | None
    truncated: bool
    response_ms: float | None
    headers: dict[str, str]
    inlinks: int

    @property
    def is_html(self) -> bool:
        ct = (self.content_type or "").lower()
        return "text/html" in ct or "application/xhtml+xml" in ct

    @property
    def is_redirect(self) -> bool:
        return self.status is not None and 300 <= self.status < 400


_URL_COLUMNS = (
    "id, url, state, kind, internal, depth, source_id, source_kind, in_sitemap, skip_reason, status,"
    " error_kind, error, location, redirect_id, final_id, final_status, redirect_hops, redirect_loop,"
    " content_type, bytes, truncated, response_ms, headers, inlinks"
)


_URL_COLUMN_COUNT = len(_URL_COLUMNS.split(","))


def _url_record(row: Sequence[Any]) -> UrlRecord:
    return UrlRecord(
        id=row[0],
        url=row[1],
        state=row[2],
        kind=row[3],
        internal=bool(row[4]),
        depth=row[5],
        source_id=row[6],
        source_kind=row[7],
        in_sitemap=bool(row[8]),
        skip_reason=row[9],
        status=row[10],
        error_kind=row[11],
        error=row[12],
        location=row[13],
        redirect_id=row[14],
        final_id=row[15],
        final_status=row[16],
        redirect_hops=row[17],
        redirect_loop=bool(row[18]),
        content_type=row[19],
        bytes=row[20],
        truncated=bool(row[21]),
        response_ms=row[22],
        headers=json.loads(row[23]) if row[23] else {},
        inlinks=row[24],
    )


@dataclass(slots=True)
class PageRecord:
    """An HTML page joined with its URL row: what page rules see (read API)."""

    url: UrlRecord
    facts: PageFacts
    canonical_id: int | None
    canonical_url: str | None
    noindex: bool
    indexable: bool
    targets: dict[str, Target] = dataclasses.field(default_factory=dict)  # ref url → target


@dataclass(slots=True, frozen=True)
class Target:
    """What the crawl knows about a link target (read API, for link/canonical/image rules)."""

    id: int
    url: str
    state: str
    internal: bool
    status: int | None
    error_kind: str | None
    skip_reason: str | None
    content_type: str | None
    final_status: int | None
    redirect_hops: int | None
    redirect_loop: bool
    has_page: bool  # parsed as an HTML page
    noindex: bool
    indexable: bool
    canonical_url: str | None

    @property
    def is_redirect(self) -> bool:
        return self.status is not None and 300 <= self.status < 400

    @property
    def is_error(self) -> bool:
        """Answered 4xx/5xx or not at all (only meaningful once fetched)."""
        return self.state == DONE and (self.status is None or self.status >= 400)


_TARGET_COLUMNS = (
    "u.id, u.url, u.state, u.internal, u.status, u.error_kind, u.skip_reason, u.content_type, u.final_status,"
    " u.redirect_hops, u.redirect_loop, p.url_id, p.noindex, p.indexable, p.canonical_url"
)


def _target(row: Sequence[Any]) -> Target | None:
    if row[0] is None:
        return None
    return Target(
        id=row[0], url=row[1], state=row[2], internal=bool(row[3]), status=row[4], error_kind=row[5],
        skip_reason=row[6], content_type=row[7], final_status=row[8], redirect_hops=row[9],
        redirect_loop=bool(row[10]), has_page=row[11] is not None, noindex=bool(row[12]),
        indexable=bool(row[13]), canonical_url=row[14],
    )


class _Stopped(Exception):
    """Store.finalize's ``should_stop`` answered true between two statements."""


def _raise_write_error(exc: BaseException, path: str) -> None:
    text = str(exc).lower()
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "full" in text:
        raise StoreWriteError(f"cannot write the crawl store {path}: disk full") from exc
    if "readonly" in text or "read-only" in text or "unable to open" in text or isinstance(exc, PermissionError):
        raise StoreWriteError(f"cannot write the crawl store {path}: permission denied or read-only location") from exc
    if "malformed" in text or "not a database" in text:
        raise StoreError(f"{path} is corrupt or not an emaudit crawl store ({exc})") from exc
    raise StoreWriteError(f"cannot write the crawl store {path}: {exc}") from exc


class Store:
    """A crawl store. Use :meth:`create` for a new crawl, :meth:`open` for an existing one."""

    def __init__(self, conn: sqlite3.Connection, path: str, readonly: bool) -> None:
        self._conn = conn
        self.path = path
        self.readonly = readonly
        self._seq = 0
        self._strip: tuple[str, ...] | None = None  # the crawl's --strip-query (read once)
        self._flags_hint: str | None = None  # see _pages_flags()

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def create(cls, path: str | os.PathLike[str]) -> Store:
        """Create a new store (the file must not exist)."""
        path = str(path)
        if path != ":memory:" and os.path.exists(path):
            raise StoreError(f"{path} already exists: choose another --store path, or use --resume {path}")
        parent = os.path.dirname(os.path.abspath(path)) if path != ":memory:" else "."
        if path != ":memory:" and not os.path.isdir(parent):
            raise StoreWriteError(f"cannot create the crawl store {path}: folder {parent} does not exist")
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            cls._pragmas(conn, writable=True)
            conn.execute("BEGIN")
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            conn.execute("INSERT INTO meta VALUES ('depth_tracking', '1')")  # see _triggers()
            conn.execute("COMMIT")
            cls._triggers(conn)
        except sqlite3.Error as exc:
            _raise_write_error(exc, path)
        return cls(conn, path, readonly=False)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, readonly: bool = True) -> Store:
        """Open an existing store; checks that it is an emaudit store of this schema version."""
        path = str(path)
        if not os.path.exists(path):
            raise StoreError(f"no crawl store at {path}")
        if os.path.isdir(path):
            raise StoreError(f"{path} is a folder, not a crawl store")
        uri = Path(os.path.abspath(path)).as_uri() + ("?mode=ro" if readonly else "")
        try:
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            cls._check_version(conn, path)
            cls._pragmas(conn, writable=not readonly)
            if not readonly:
                cls._triggers(conn)
        except sqlite3.Error as exc:
            msg = str(exc).lower()
            if "not a database" in msg or "malformed" in msg or "file is encrypted" in msg:
                raise StoreError(f"{path} is corrupt or not an emaudit crawl store ({exc})") from exc
            if readonly:
                raise StoreError(f"cannot read the crawl store {path}: {exc}") from exc
            _raise_write_error(exc, path)
        store = cls(conn, path, readonly=readonly)
        if not readonly:
            store._seq = store._scalar("SELECT COALESCE(MAX(seq), 0) FROM urls")
        return store

    @staticmethod
    def _check_version(conn: sqlite3.Connection, path: str) -> None:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if app_id != APPLICATION_ID:
            raise StoreError(f"{path} is not an emaudit crawl store")
        if version != SCHEMA_VERSION:
            newer = "a newer" if version > SCHEMA_VERSION else "an older"
            raise StoreError(
                f"{path} was written by {newer} emaudit (store schema {version}, this version reads {SCHEMA_VERSION});"
                " re-crawl, or use a matching emaudit version"
            )

    @staticmethod
    def _pragmas(conn: sqlite3.Connection, *, writable: bool) -> None:
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        conn.execute("PRAGMA temp_store = FILE")
        if writable:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA wal_autocheckpoint = 20000")

    @staticmethod
    def _triggers(conn: sqlite3.Connection) -> None:
        """Connection-local (TEMP) triggers of a writing connection; the schema must exist.

        Click depths handed down by the crawler are breadth-first depths unless a URL already
        claimed or fetched is later found closer to the start (a slow page of an upper level, a
        resumed crawl): its links then carried the old depth. Noting that case lets finalize()
        skip the breadth-first recomputation otherwise (11 s of a 50,000-page crawl's 20 s
        finalisation).
        """
        # (No INSERT OR REPLACE in the body: the crawler's upsert imposes its own conflict policy
        # on its triggers, and a second lowering would fail on meta's primary key.)
        conn.execute(
            "CREATE TEMP TRIGGER IF NOT EXISTS depth_lowered AFTER UPDATE OF depth ON main.urls"
            " WHEN OLD.state != 'queued' AND NEW.depth IS NOT OLD.depth BEGIN INSERT INTO meta SELECT 'depths_stale', '1'"
            " WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'depths_stale'); END"
        )

    def close(self) -> None:
        try:
            if not self.readonly:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ helpers
    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self._conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def _write(self, fn: Any, *args: Any) -> Any:
        """Run ``fn`` in one transaction; storage failures become StoreWriteError."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(*args)
            except BaseException:
                if self._conn.in_transaction:  # an aborted statement may have rolled it back already
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return result
        except sqlite3.Error as exc:
            _raise_write_error(exc, self.path)

    # ------------------------------------------------------------------ run
    def start_run(self, start_url: str, mode: str, options: dict[str, Any], user_agent: str, version: str) -> None:
        def _do() -> None:
            self._conn.execute(
                "INSERT INTO run (id, start_url, mode, options, user_agent, tool_version, started_at, state)"
                " VALUES (1, ?, ?, ?, ?, ?, ?, 'running')",
                (start_url, mode, json.dumps(options, sort_keys=True), user_agent, version, time.time()),
            )

        self._write(_do)

    def run_info(self) -> dict[str, Any]:
        row = self._conn.execute(
            "SELECT start_url, mode, options, user_agent, tool_version, started_at, finished_at, state, elapsed, stats"
            " FROM run WHERE id = 1"
        ).fetchone()
        if row is None:
            raise StoreError(f"{self.path} holds no crawl run")
        keys = ("start_url", "mode", "options", "user_agent", "tool_version", "started_at", "finished_at", "state", "elapsed", "stats")
        info = dict(zip(keys, row))
        info["options"] = json.loads(info["options"])
        info["stats"] = json.loads(info["stats"]) if info["stats"] else None
        return info

    def set_run_state(self, state: str, *, elapsed_add: float = 0.0, stats: dict[str, Any] | None = None) -> None:
        finished = time.time() if state == "finished" else None

        def _do() -> None:
            self._conn.execute(
                "UPDATE run SET state = ?, elapsed = elapsed + ?, finished_at = COALESCE(?, finished_at),"
                " stats = COALESCE(?, stats) WHERE id = 1",
                (state, elapsed_add, finished, json.dumps(stats) if stats is not None else None),
            )

        self._write(_do)

    def set_meta(self, key: str, value: str) -> None:
        self._write(lambda: self._conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value)))

    def get_meta(self, key: str) -> str | None:
        return self._scalar("SELECT value FROM meta WHERE key = ?", (key,))

    # ------------------------------------------------------------------ origins / robots
    def save_robots(
        self,
        origin: str,
        robots_url: str,
        status: int | None,
        error: str | None,
        body: str | None,
        truncated: bool,
        final_url: str | None,
        crawl_delay: float | None,
    ) -> None:
        def _do() -> None:
            self._conn.execute(
                "INSERT OR REPLACE INTO origins VALUES (?,?,?,?,?,?,?,?,?)",
                (origin, robots_url, status, error, body, int(truncated), final_url, crawl_delay, time.time()),
            )

        self._write(_do)

    def robots_for(self, origin: str) -> dict[str, Any] | None:
        row = self._conn.execute(
            "SELECT origin, robots_url, robots_status, robots_error, robots_body, robots_truncated,"
            " robots_final_url, crawl_delay FROM origins WHERE origin = ?",
            (origin,),
        ).fetchone()
        return None if row is None else self._origin_dict(row)

    def iter_origins(self) -> Iterator[dict[str, Any]]:
        rows = self._conn.execute(
            "SELECT origin, robots_url, robots_status, robots_error, robots_body, robots_truncated,"
            " robots_final_url, crawl_delay FROM origins ORDER BY origin"
        )
        for row in rows:
            yield self._origin_dict(row)

    @staticmethod
    def _origin_dict(row: Sequence[Any]) -> dict[str, Any]:
        keys = ("origin", "robots_url", "status", "error", "body", "truncated", "final_url", "crawl_delay")
        return dict(zip(keys, row))

    # ------------------------------------------------------------------ crawler writes
    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def add_urls(self, new: Iterable[NewUrl]) -> None:
        """Insert discovered URLs (ignored when already known). Call inside :meth:`batch`."""
        rows = [
            (
                n.id,
                n.url,
                self.next_seq(),
                n.state,
                n.kind,
                int(n.internal),
                n.depth,
                n.depth if n.depth is not None else SITEMAP_PRIO,
                n.chain,
                n.source_id,
                n.source_kind,
                n.redirect_depth,
                n.skip_reason,
            )
            for n in new
        ]
        if rows:
            self._conn.executemany(_URL_INSERT, rows)

    def mark_in_sitemap(self, ids: Iterable[int]) -> None:
        self._conn.executemany("UPDATE urls SET in_sitemap = 1 WHERE id = ?", ((i,) for i in ids))

    def record_fetch(self, rec: FetchRecord) -> None:
        self._conn.execute(
            _FETCH_UPDATE,
            (
                DONE,
                rec.status,
                rec.error_kind,
                rec.error,
                rec.location,
                rec.redirect_id,
                rec.content_type,
                rec.bytes,
                int(rec.truncated),
                round(rec.response_ms, 1),
                rec.http_version,
                rec.attempts,
                json.dumps(rec.headers, ensure_ascii=False) if rec.headers else None,
                rec.fetched_at,
                rec.id,
            ),
        )

    def mark_blocked(self, uid: int, reason: str = "robots") -> None:
        self._conn.execute("UPDATE urls SET state = 'blocked', skip_reason = ? WHERE id = ?", (reason, uid))

    def error_count(self) -> int:
        return self._scalar("SELECT COUNT(*) FROM urls WHERE state = 'done' AND status IS NULL")

    def record_page(self, page: PageRow) -> None:
        self.record_prepared(
            page.url_id, prepare_page(page.facts, page.refs), page.canonical_id, page.canonical_url, page.indexable
        )

    def record_prepared(
        self, url_id: int, page: PreparedPage, canonical_id: int | None, canonical_url: str | None, indexable: bool
    ) -> None:
        """Store a page's facts and link rows (prepared by :func:`prepare_page`, maybe in a worker)."""
        # A page is written once: with its fetch result, in one transaction (a URL whose result
        # was not committed is fetched again on resume, and had no rows yet).
        self._conn.execute(_PAGE_INSERT, (url_id, canonical_id, canonical_url, int(indexable), *page.values))
        self._conn.executemany(_LINK_INSERT, [(url_id, *row) for row in page.link_rows])

    def add_link(self, src: int, dst: int | None, kind: str, raw: str | None = None) -> None:
        self._conn.execute(_LINK_INSERT, (src, dst, kind, None, None, 0, None, raw, None))

    def batch(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` (which calls the write methods above) in one transaction."""
        return self._write(fn, *args)

    def claim(self, limit: int, *, pages: bool = True, sitemap_only: bool = True) -> list[Claimed]:
        """Take up to ``limit`` queued URLs (breadth first) and mark them as being fetched.

        ``pages=False`` claims only non-page URLs (resources, external checks): used once
        ``--max-pages`` is reached. ``sitemap_only=False`` holds back URLs known only from
        sitemaps, so that link-reachable pages come first (and get their click depth).
        """

        def _do() -> list[Claimed]:
            kind_filter = "" if pages else " AND kind != 'page'"
            if not sitemap_only:
                kind_filter += f" AND prio < {SITEMAP_PRIO}"
            # INDEXED BY: without statistics the planner took urls_state and sorted the whole
            # frontier on every claim (9.8 ms with 14,000 URLs queued, 11 % of a 50k-page crawl);
            # the partial frontier index gives the next URLs in order at once (0.05 ms).
            rows = self._conn.execute(
                "SELECT id, url, kind, depth, redirect_depth, internal, chain FROM urls INDEXED BY urls_frontier"
                f" WHERE state = 'queued'{kind_filter} ORDER BY prio, seq LIMIT ?",
                (limit,),
            ).fetchall()
            self._conn.executemany("UPDATE urls SET state = 'fetching' WHERE id = ?", ((r[0],) for r in rows))
            return [Claimed(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6]) for r in rows]

        return self._write(_do)

    def requeue_unfinished(self) -> int:
        """On resume: URLs claimed but not recorded go back to the frontier (and the audit
        indexes go until the crawl is finalised again)."""

        def _do() -> int:
            self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('finalized', '0')")
            # A store written before the depth_lowered trigger existed: its depths are not
            # vouched for, recompute them when this crawl is finalised.
            if self.get_meta("depth_tracking") is None:
                self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('depths_stale', '1')")
            for name in _AUDIT_INDEXES:
                self._conn.execute(f"DROP INDEX IF EXISTS {name}")
            self._flags_hint = None
            return self._conn.execute("UPDATE urls SET state = 'queued' WHERE state = 'fetching'").rowcount

        return self._write(_do)

    def release(self, ids: Iterable[int]) -> None:
        """Give claimed URLs back to the frontier (crawl stopped before fetching them)."""
        self._write(lambda: self._conn.executemany("UPDATE urls SET state = 'queued' WHERE id = ? AND state = 'fetching'", ((i,) for i in ids)))

    def queued_count(self) -> int:
        return self._scalar("SELECT COUNT(*) FROM urls WHERE state = 'queued'")

    def fetched_pages(self) -> int:
        return self._scalar("SELECT COUNT(*) FROM urls WHERE state = 'done' AND kind = 'page'")

    def save_sitemap(self, url: str, parent: str | None, kind: str, status: int | None, error: str | None,
                     url_count: int, size: int, truncated: bool, problems: list[dict[str, Any]]) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO sitemaps VALUES (?,?,?,?,?,?,?,?,?,?)",
            (url, parent, kind, status, error, url_count, size, int(truncated),
             json.dumps(problems, ensure_ascii=False) if problems else None, time.time()),
        )

    def add_sitemap_entries(self, sitemap: str, entries: Iterable[tuple[int, str | None]]) -> None:
        self._conn.executemany(
            "INSERT INTO sitemap_entries (url_id, sitemap, lastmod) VALUES (?,?,?)",
            ((uid, sitemap, lastmod) for uid, lastmod in entries),
        )

    def forget_sitemap_entries(self, sitemap: str) -> None:
        """Drop a sitemap's entries (its read is starting over after an interruption)."""
        self._conn.execute("DELETE FROM sitemap_entries WHERE sitemap = ?", (sitemap,))

    def sitemap_known(self, url: str) -> bool:
        """Already read (resume). Never true for an index: its children are not stored, so a
        resumed crawl reads it again to find the ones still unread (saving it again is idempotent)."""
        return self._scalar("SELECT 1 FROM sitemaps WHERE url = ? AND kind IS NOT 'sitemapindex'", (url,)) is not None

    # ------------------------------------------------------------------ finalisation
    def finalize(self, max_hops: int = 10, *, should_stop: Callable[[], bool] | None = None) -> bool:
        """Derived facts: inlink counts, redirect chains (final URL, hops, loops), audit indexes.

        One transaction; on a big store its statements run for a long time (two index sorts of
        every link row: ~5 s at 50,000 pages, minutes at a million). ``should_stop`` is asked
        between the statements and, while one runs, every 100,000 SQLite steps (milliseconds):
        when it answers true, the running statement is aborted, nothing is changed (the store
        stays unfinalised: a resume or an audit finalises it later) and False is returned.
        It must be a Python function, not a builtin: a signal handler of the main thread runs only
        when Python code does, and during a statement this is the only Python code that runs.
        Returns True once finalised.
        """
        stop = should_stop or (lambda: False)

        def check() -> None:
            if stop():
                raise _Stopped

        def step(sql: str) -> None:
            check()
            c.execute(sql)

        def _do() -> None:
            # Index sorts: two threads, and a 2 MB cache as the sorter's in-memory run size. Measured
            # at 5.6M links: 6.5 s and +6 MB, against 8.0 s and +22 MB with one thread and 8 MB.
            c.execute(f"PRAGMA threads = {min(2, usable_cpus())}")
            c.execute("PRAGMA cache_size = -2000")
            for name, definition in _AUDIT_INDEXES.items():
                step(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")
            self._flags_hint = None  # the reads below may name pages_flags now
            c.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            step("UPDATE urls SET inlinks = (SELECT COUNT(DISTINCT src) FROM links WHERE links.dst = urls.id AND links.kind = 'a')")
            self._resolve_redirects(max_hops)
            if self.get_meta("depths_stale") is not None:
                check()
                self._recompute_depths()
                c.execute("DELETE FROM meta WHERE key = 'depths_stale'")

        c = self._conn
        if should_stop is not None:
            c.set_progress_handler(should_stop, 100_000)
        try:
            self._write(_do)
        except (_Stopped, StoreWriteError):
            if not stop():
                raise
            return False  # rolled back: the store is as it was
        finally:
            c.set_progress_handler(None, 0)
            self._flags_hint = None  # pages_flags may now exist (or, rolled back, not)
            with contextlib.suppress(sqlite3.Error):  # a connection that failed says so in the error above
                c.execute(f"PRAGMA cache_size = -{CACHE_KIB}")  # the sorts' size, after a stop as well
        try:
            c.execute("PRAGMA analysis_limit = 1000")  # sampled statistics: ms, not 0.1 s per 500k links
            c.execute("ANALYZE")
        except sqlite3.Error:
            pass
        self.set_meta("finalized", "1")
        return True

    @property
    def finalized(self) -> bool:
        """Whether the derived facts (indexes, inlinks, chains, depths) match the stored crawl."""
        return self.get_meta("finalized") == "1"

    def _recompute_depths(self) -> None:
        """Click depth as a true breadth-first search over the stored links.

        The crawler assigns depths as it discovers URLs, in batches: a shorter path found later
        (another batch, a resumed crawl) lowers a URL's own depth but not the depths it already
        passed on. One SQL statement per level fixes that: a redirect adds no click, every other
        discovered link kind adds one. URLs not reachable from the start (sitemap only) keep none.
        """
        c = self._conn
        start = self._scalar("SELECT id FROM urls WHERE source_kind IN ('start', 'list') AND depth = 0 LIMIT 1")
        if start is None:
            return
        kinds = "('a', 'canonical', 'hreflang', 'refresh', 'next', 'prev', 'img', 'script', 'css')"
        c.execute("CREATE TEMP TABLE IF NOT EXISTS bfs (id INTEGER PRIMARY KEY, depth INTEGER NOT NULL)")
        c.execute("DELETE FROM bfs")
        c.execute("INSERT INTO bfs SELECT id, 0 FROM urls WHERE source_kind IN ('start', 'list') AND depth = 0")
        level = 0
        while level < 10_000:
            while c.execute(
                "INSERT OR IGNORE INTO bfs SELECT l.dst, ? FROM links AS l JOIN bfs AS b ON b.id = l.src"
                " WHERE b.depth = ? AND l.kind = 'redirect' AND l.dst IS NOT NULL", (level, level)
            ).rowcount:
                pass
            added = c.execute(
                "INSERT OR IGNORE INTO bfs SELECT l.dst, ? FROM links AS l JOIN bfs AS b ON b.id = l.src"
                f" WHERE b.depth = ? AND l.kind IN {kinds} AND l.dst IS NOT NULL", (level + 1, level)
            ).rowcount
            if not added:
                break
            level += 1
        c.execute(
            "UPDATE urls SET depth = (SELECT depth FROM bfs WHERE bfs.id = urls.id)"
            " WHERE id IN (SELECT id FROM bfs) AND depth IS NOT (SELECT depth FROM bfs WHERE bfs.id = urls.id)"
        )
        c.execute("DROP TABLE bfs")

    def _resolve_redirects(self, max_hops: int) -> None:
        c = self._conn
        redirects = dict(
            c.execute("SELECT id, redirect_id FROM urls WHERE status BETWEEN 300 AND 399 AND redirect_id IS NOT NULL")
        )
        updates = []
        for start in redirects:
            chain = [start]
            current = redirects[start]
            loop = False
            while current in redirects and len(chain) <= max_hops:
                if current in chain:
                    loop = True
                    break
                chain.append(current)
                current = redirects[current]
            if current in chain:
                loop = True
            hops = len(chain)
            updates.append((current, hops, int(loop), start))
        c.executemany(
            "UPDATE urls SET final_id = ?, redirect_hops = ?, redirect_loop = ?,"
            " final_status = (SELECT status FROM urls AS u2 WHERE u2.id = ?) WHERE id = ?",
            ((f, h, loop, f, s) for f, h, loop, s in updates),
        )

    # ------------------------------------------------------------------ read API
    @staticmethod
    def _id_of(url: str) -> int:
        from emaudit.urls import url_id

        return url_id(url)

    def get(self, url_or_id: str | int) -> UrlRecord | None:
        """Look a URL up by normalised URL or id."""
        uid = url_or_id if isinstance(url_or_id, int) else self._id_of(url_or_id)
        row = self._conn.execute(f"SELECT {_URL_COLUMNS} FROM urls WHERE id = ?", (uid,)).fetchone()
        return _url_record(row) if row else None

    def get_many(self, ids: Iterable[int]) -> dict[int, UrlRecord]:
        out: dict[int, UrlRecord] = {}
        id_list = list(ids)
        for i in range(0, len(id_list), 500):
            chunk = id_list[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._conn.execute(f"SELECT {_URL_COLUMNS} FROM urls WHERE id IN ({marks})", chunk):
                out[row[0]] = _url_record(row)
        return out

    def iter_urls(self, *, state: str | None = None, internal: bool | None = None, kind: str | None = None) -> Iterator[UrlRecord]:
        where, params = [], []
        if state is not None:
            where.append("state = ?")
            params.append(state)
        if internal is not None:
            where.append("internal = ?")
            params.append(int(internal))
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        for row in self._conn.execute(f"SELECT {_URL_COLUMNS} FROM urls{clause} ORDER BY id", params):
            yield _url_record(row)

    def iter_pages(self, *, with_refs: bool = False) -> Iterator[PageRecord]:
        """Every stored HTML page, in id order.

        ``with_refs`` also loads the page's outgoing refs and what is known of their targets
        (status, indexability …) by one merge join over the links table: no query per page.
        """
        cols = ", ".join("u." + c.strip() for c in _URL_COLUMNS.split(","))
        rows = self._conn.execute(
            f"SELECT {cols}, p.facts, p.canonical_id, p.canonical_url, p.noindex, p.indexable"
            " FROM pages AS p JOIN urls AS u ON u.id = p.url_id ORDER BY p.url_id"
        )
        links = self._iter_refs_by_src() if with_refs else None
        pending: tuple[int, Ref, Target | None] | None = None
        for row in rows:
            rec = _url_record(row[:25])
            refs: list[Ref] = []
            targets: dict[str, Target] = {}
            if links is not None:
                pending = _take_refs(links, pending, rec.id, refs, targets)
            facts = self._facts(row[25], refs, rec.url)
            yield PageRecord(
                url=rec,
                facts=facts,
                canonical_id=row[26],
                canonical_url=row[27],
                noindex=bool(row[28]),
                indexable=bool(row[29]),
                targets=targets,
            )

    def page(self, url_or_id: str | int) -> PageRecord | None:
        """One page with its refs and their targets."""
        rec = self.get(url_or_id)
        if rec is None:
            return None
        row = self._conn.execute(
            "SELECT facts, canonical_id, canonical_url, noindex, indexable FROM pages WHERE url_id = ?", (rec.id,)
        ).fetchone()
        if row is None:
            return None
        refs: list[Ref] = []
        targets: dict[str, Target] = {}
        _take_refs(self._iter_refs_by_src(rec.id), None, rec.id, refs, targets)
        facts = self._facts(row[0], refs, rec.url)
        return PageRecord(rec, facts, row[1], row[2], bool(row[3]), bool(row[4]), targets)

    def page_facts(self, url_or_id: str | int) -> PageFacts | None:
        """One page's facts without its refs: what a site rule needs to quote a page's title or
        description (reading the ~100 joined links of :meth:`page` costs ~50x more)."""
        uid = url_or_id if isinstance(url_or_id, int) else self._id_of(url_or_id)
        row = self._conn.execute("SELECT facts FROM pages WHERE url_id = ?", (uid,)).fetchone()
        return PageFacts.from_json_dict(json.loads(row[0])) if row is not None else None

    def _iter_refs_by_src(self, src: int | None = None) -> Iterator[tuple[int, Ref, Target | None]]:
        where = "" if src is None else " WHERE l.src = ?"
        rows = self._conn.execute(
            "SELECT l.src, l.kind, u.url, l.raw, l.anchor, l.rel, l.nofollow, l.alt, l.extra,"
            f" {_TARGET_COLUMNS} FROM links AS l LEFT JOIN urls AS u ON u.id = l.dst"
            f" LEFT JOIN pages AS p{self._pages_flags()} ON p.url_id = l.dst{where} ORDER BY l.src, l.rowid",
            () if src is None else (src,),
        )
        for row in rows:
            yield row[0], _ref(row[1:9]), _target(row[9:])

    def outlinks(self, src: int, kind: str | None = None) -> list[tuple[int | None, Ref]]:
        sql = (
            "SELECT l.dst, l.kind, u.url, l.raw, l.anchor, l.rel, l.nofollow, l.alt, l.extra"
            " FROM links AS l LEFT JOIN urls AS u ON u.id = l.dst WHERE l.src = ?"
        )
        params: list[Any] = [src]
        if kind is not None:
            sql += " AND l.kind = ?"
            params.append(kind)
        out = [(row[0], _ref(row[1:])) for row in self._conn.execute(sql + " ORDER BY l.rowid", params)]
        if any(ref.url is None and ref.raw for _, ref in out):
            page, facts = self.get(src), self.page_facts(src)
            if page is not None:
                _restore_unrecorded([ref for _, ref in out], page.url, facts.base_href if facts else None, self._strip_query())
        return out

    def _pages_flags(self) -> str:
        """" INDEXED BY pages_flags" once the crawl is finalised (the index exists), else "".

        The planner, with the sampled statistics finalize() gathers, looked pages up by their
        primary key (reading the wide row) rather than through this covering index: the hint
        makes the choice. Remembered per connection; finalize() and a resume reset it.
        """
        if self._flags_hint is None:
            exists = self._scalar("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'pages_flags'")
            self._flags_hint = " INDEXED BY pages_flags" if exists else ""
        return self._flags_hint

    def _facts(self, facts_json: str, refs: list[Ref], page_url: str) -> PageFacts:
        """A stored page's facts with its refs, the URLs of unrecorded targets given back."""
        facts = PageFacts.from_json_dict(json.loads(facts_json), refs)
        if refs:
            _restore_unrecorded(refs, page_url, facts.base_href, self._strip_query())
        return facts

    def _strip_query(self) -> tuple[str, ...]:
        """The crawl's --strip-query patterns (what its extractor resolved URLs with)."""
        if self._strip is None:
            try:
                patterns = self.run_info()["options"].get("strip_query")
            except (StoreError, ValueError, AttributeError):  # no run row, or options that are not an object
                patterns = None
            self._strip = tuple(p for p in patterns if isinstance(p, str)) if isinstance(patterns, list) else ()
        return self._strip

    def inlinks(self, dst: int, kind: str | None = "a", limit: int | None = None) -> list[tuple[str, str | None]]:
        """(source URL, anchor) pairs of links pointing at ``dst``."""
        sql = "SELECT u.url, l.anchor FROM links AS l JOIN urls AS u ON u.id = l.src WHERE l.dst = ?"
        params: list[Any] = [dst]
        if kind is not None:
            sql += " AND l.kind = ?"
            params.append(kind)
        sql += " ORDER BY u.url"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return list(self._conn.execute(sql, params))

    def inlink_sources(self, dst: int, limit: int = 10, kind: str = "a") -> list[str]:
        """Distinct URLs of pages referencing ``dst`` with ``kind`` (``<a>`` links by default),
        sorted, at most ``limit`` (one ``links_dst`` index range)."""
        return [row[0] for row in self._conn.execute(
            "SELECT DISTINCT u.url FROM links AS l JOIN urls AS u ON u.id = l.src WHERE l.dst = ? AND l.kind = ?"
            " ORDER BY u.url LIMIT ?", (dst, kind, int(limit)))]

    def duplicate_groups(self, field: str, *, indexable_only: bool = True) -> Iterator[list[int]]:
        """Groups (2+) of page ids sharing a title/description/h1/content value."""
        column = {"title": "title_key", "description": "description_key", "h1": "h1_key", "content": "content_hash"}[field]
        where = f"{column} IS NOT NULL" + (" AND indexable = 1" if indexable_only else "")
        rows = self._conn.execute(
            f"SELECT group_concat(url_id) FROM pages WHERE {where} GROUP BY {column} HAVING COUNT(*) > 1"
        )
        for (ids,) in rows:
            yield sorted(int(i) for i in ids.split(","))

    def iter_simhashes(self, *, indexable_only: bool = True) -> Iterator[tuple[int, int, str | None]]:
        """(url id, simhash, content hash) of pages with text."""
        where = "simhash IS NOT NULL" + (" AND indexable = 1" if indexable_only else "")
        yield from self._conn.execute(f"SELECT url_id, simhash, content_hash FROM pages{self._pages_flags()} WHERE {where}")

    def link_targets(self, kind: str) -> Iterator[tuple[int, int, UrlRecord]]:
        """(src, dst, target record) for every link of ``kind`` with a known target."""
        cols = ", ".join("u." + c.strip() for c in _URL_COLUMNS.split(","))
        rows = self._conn.execute(
            f"SELECT l.src, {cols} FROM links AS l JOIN urls AS u ON u.id = l.dst WHERE l.kind = ? ORDER BY l.src",
            (kind,),
        )
        for row in rows:
            rec = _url_record(row[1:])
            yield row[0], rec.id, rec

    def counts(self) -> dict[str, Any]:
        """Summary counts: URLs by state, fetched internal pages by status class."""
        by_state = dict(self._conn.execute("SELECT state, COUNT(*) FROM urls GROUP BY state"))
        by_class: dict[str, int] = {}
        for cls, n in self._conn.execute(
            "SELECT CASE WHEN status IS NULL THEN 'error' ELSE (status / 100) || 'xx' END, COUNT(*)"
            " FROM urls WHERE state = 'done' AND internal = 1 GROUP BY 1"
        ):
            by_class[cls] = n
        return {
            "urls": sum(by_state.values()),
            "by_state": by_state,
            "by_status_class": by_class,
            "pages": self._scalar("SELECT COUNT(*) FROM urls WHERE state = 'done' AND internal = 1 AND kind = 'page'"),
            "html_pages": self._scalar(f"SELECT COUNT(*) FROM pages{self._pages_flags()}"),
            "resources": self._scalar("SELECT COUNT(*) FROM urls WHERE state = 'done' AND kind = 'resource'"),
            "links": self._scalar("SELECT COUNT(*) FROM links"),
            "sitemaps": self._scalar("SELECT COUNT(*) FROM sitemaps"),
        }

    def iter_sitemaps(self) -> Iterator[dict[str, Any]]:
        keys = ("url", "parent", "kind", "status", "error", "url_count", "bytes", "truncated", "problems")
        for row in self._conn.execute(
            "SELECT url, parent, kind, status, error, url_count, bytes, truncated, problems FROM sitemaps ORDER BY url"
        ):
            d = dict(zip(keys, row))
            d["problems"] = json.loads(d["problems"]) if d["problems"] else []
            yield d

    def sitemap_entries(self, url_id: int) -> list[tuple[str, str | None]]:
        return list(self._conn.execute("SELECT sitemap, lastmod FROM sitemap_entries WHERE url_id = ?", (url_id,)))

    def iter_url_states(self, *, internal: bool | None = None, in_sitemap: bool | None = None) -> Iterator[tuple[UrlRecord, Target]]:
        """Each URL with its page flags (indexable, noindex, canonical) but no facts JSON, in id order.

        For site rules that filter URLs by crawl state and indexability (orphans, sitemap entries,
        noindex share) without parsing every page's facts.
        """
        where, params = [], []
        for column, value in (("internal", internal), ("in_sitemap", in_sitemap)):
            if value is not None:
                where.append(f"u.{column} = ?")
                params.append(int(value))
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        cols = ", ".join("u." + c.strip() for c in _URL_COLUMNS.split(","))
        rows = self._conn.execute(
            f"SELECT {cols}, {_TARGET_COLUMNS} FROM urls AS u LEFT JOIN pages AS p{self._pages_flags()} ON p.url_id = u.id{clause}"
            " ORDER BY u.id",
            params,
        )
        for row in rows:
            yield _url_record(row[:25]), _target(row[25:])  # type: ignore[misc]

    def iter_pages_cached_targets(self, cache_size: int = 200_000,
                                  id_range: tuple[int, int] | None = None) -> Iterator[PageRecord]:
        """``iter_pages(with_refs=True)`` for the audit's one pass over a big site.

        Joining every link with its target's url and page rows costs ~30 µs a link, and most
        links point at the same few thousand pages (navigation). Here each distinct target is
        looked up once (batched per page) and kept in a bounded cache: several times faster.
        ``id_range`` (lo, hi): only pages with lo <= id <= hi (parallel audit workers).
        """
        lo, hi = id_range or (0, (1 << 63) - 1)
        cols = ", ".join("u." + c.strip() for c in _URL_COLUMNS.split(","))
        rows = self._conn.execute(
            f"SELECT {cols}, p.facts, p.canonical_id, p.canonical_url, p.noindex, p.indexable"
            " FROM pages AS p JOIN urls AS u ON u.id = p.url_id WHERE p.url_id BETWEEN ? AND ? ORDER BY p.url_id",
            (lo, hi),
        )
        links = self._conn.cursor().execute(
            "SELECT src, dst, kind, raw, anchor, rel, nofollow, alt, extra FROM links"
            " WHERE src BETWEEN ? AND ? ORDER BY src, rowid",
            (lo, hi),
        )
        cache: dict[int, Target] = {}
        extras: dict[str, Any] = {}  # decoded link extras: menus repeat theirs on every page
        hint = self._pages_flags()
        loads = json.loads
        pending = next(links, None)
        for row in rows:
            page_id, own = row[0], []
            while pending is not None and pending[0] <= page_id:
                if pending[0] == page_id:
                    own.append(pending)
                pending = next(links, None)
            wanted = {r[1] for r in own if r[1] is not None}
            missing = [d for d in wanted if d not in cache]
            if missing:
                if len(cache) + len(missing) > cache_size:
                    # Bounded memory (~340 bytes a target): forget the older half, not everything.
                    # Clearing it all made a 100,000-page audit re-read each target ~15 times
                    # (26 s of 128 s) once the site outgrew the cache.
                    for old in list(itertools.islice(cache, len(cache) // 2)):
                        del cache[old]
                    missing = [d for d in wanted if d not in cache]
                for i in range(0, len(missing), 500):
                    chunk = missing[i : i + 500]
                    sql = (f"SELECT {_TARGET_COLUMNS} FROM urls AS u LEFT JOIN pages AS p{hint} ON p.url_id = u.id"
                           f" WHERE u.id IN ({','.join('?' * len(chunk))})")
                    cache.update((t[0], _target(t)) for t in self._conn.execute(sql, chunk))  # type: ignore[misc]
            refs, targets = [], {}
            for _src, dst, kind, raw, anchor, rel, nofollow, alt, extra in own:
                target = cache.get(dst)
                url = target.url if target is not None else None
                if extra:
                    decoded = extras.get(extra)
                    if decoded is None:
                        if len(extras) >= 4096:
                            extras.clear()
                        decoded = extras[extra] = loads(extra)
                else:
                    decoded = None
                refs.append(Ref(kind, url, raw if raw is not None else url, anchor or "", rel or "", bool(nofollow), alt,
                                decoded))
                if target is not None:
                    targets[url] = target
            n = _URL_COLUMN_COUNT
            facts = self._facts(row[n], refs, row[1])
            yield PageRecord(_url_record(row[:n]), facts, row[n + 1], row[n + 2], bool(row[n + 3]), bool(row[n + 4]), targets)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Read-only escape hatch for site rules that need an aggregate the API lacks.

        Only SELECT statements are accepted (rules must never write).
        """
        if not sql.lstrip().lower().startswith(("select", "with")):
            raise StoreError("Store.query accepts SELECT statements only")
        return list(self._conn.execute(sql, params))


def needs_finalizing(path: str) -> bool:
    """Whether the store was left unfinalised (an interrupted or killed crawl)."""
    with Store.open(path) as store:
        return not store.finalized and store.run_info()["state"] not in ("finished", "stopped")


def finalize_left_store(path: str, should_stop: Callable[[], bool] | None = None) -> bool:
    """Finalise a store that :func:`needs_finalizing` before reading it (best effort: a store in
    a read-only place is read as it is). False when ``should_stop`` stopped it (see
    :meth:`Store.finalize`: the store is left as it was)."""
    try:
        with Store.open(path, readonly=False) as store:
            return store.finalize(should_stop=should_stop)
    except (StoreError, StoreWriteError):
        return True


def _ref(row: Sequence[Any]) -> Ref:
    kind, url, raw, anchor, rel, nofollow, alt, extra = row
    return Ref(
        kind=kind,
        url=url,
        raw=raw if raw is not None else url,
        anchor=anchor or "",
        rel=rel or "",
        nofollow=bool(nofollow),
        alt=alt,
        extra=json.loads(extra) if extra else None,
    )


def _restore_unrecorded(refs: list[Ref], page_url: str, base_href: str | None, strip_query: tuple[str, ...]) -> None:
    """Give back their URL to refs whose target the crawl did not record in urls (a resource
    of a crawl without --resources, an iframe, a form): the link row keeps only their raw
    href, resolved here as the extractor did (against ``<base href>`` when it is http)."""
    base = directory = ""
    for ref in refs:
        raw = ref.raw
        if ref.url is not None or not raw or ref.kind in FOLLOWED_KINDS:
            continue
        if not base:
            from emaudit.urls import directory_of, is_http, resolve

            base = page_url
            if base_href:
                resolved = resolve(page_url, base_href, strip_query)
                if is_http(resolved):
                    base = resolved  # type: ignore[assignment]
            directory = directory_of(base)
        # As the extractor does: a path or an absolute URL does not depend on more of the base
        # than its directory (cached across pages); "?…", "#…" and the rest need all of it.
        first = raw[:1]
        ref.url = _resolve_ref(directory if first == "/" or first == "." or first.isalnum() else base, raw, strip_query)


@functools.lru_cache(maxsize=4096)  # the script, stylesheet and form of every page: ~25 % of such hrefs repeat
def _resolve_ref(base: str, raw: str, strip_query: tuple[str, ...]) -> str | None:
    from emaudit.urls import resolve_quick

    return resolve_quick(base, raw, strip_query)


def _take_refs(
    links: Iterator[tuple[int, Ref, Target | None]],
    pending: tuple[int, Ref, Target | None] | None,
    page_id: int,
    refs: list[Ref],
    targets: dict[str, Target],
) -> tuple[int, Ref, Target | None] | None:
    """Advance the (src-ordered) link stream to ``page_id``, collecting its refs and targets."""
    while True:
        if pending is None:
            pending = next(links, None)
            if pending is None:
                return None
        src, ref, target = pending
        if src > page_id:
            return pending
        if src == page_id:
            refs.append(ref)
            if target is not None and ref.url is not None:
                targets[ref.url] = target
        pending = None
