"""Sitemaps: safe, streaming parsing (XML, gzip, text) and a bounded, loop-safe reader of indexes.

Used by ``emaudit sitemap`` and by the crawler. Design choices, and why:

* **Safety first.** Sitemaps are untrusted input. lxml runs with ``resolve_entities=False``,
  ``no_network=True``, ``load_dtd=False`` and ``huge_tree=False``: an external entity
  (``<!ENTITY x SYSTEM "file:///etc/passwd">``) is never read, an internal one is never expanded,
  and libxml2's amplification guard stops billion-laughs payloads as a parse error. A document
  that declares a DTD is flagged (``sitemap.doctype``): sitemaps have no reason to carry one.
* **Streaming, capped.** Bodies are fed to ``lxml.etree.XMLPullParser`` in 64 KiB chunks, gzip is
  decompressed incrementally, and reading stops at the sitemaps.org limits (50,000 URLs kept,
  50 MB uncompressed): a gzip bomb costs at most ``max_bytes`` of CPU, never that much memory.
  Elements are read at their end event and swept out of lxml's tree in batches, so memory is
  flat whatever the shape of the document.
* **Facts, not exceptions.** Malformed XML, a wrong root or a bad date is recorded on the
  :class:`SitemapDoc` (``kind="invalid"``, ``error``, ``problems``) with the entries read before
  the error kept, so one broken child never hides the rest of an index.
* **Not advertools.** ``advertools.sitemap_to_df`` fetches with its own HTTP stack (no shared user
  agent, caps, retries or rate) and parses whole documents in memory without XXE/bomb guards, so
  this path does not use it; everything fetched here goes through :mod:`emaudit.http`.

Problem kinds (each a dict ``{kind, message, line?, loc?}``, at most
:data:`MAX_PROBLEMS_PER_KIND` kept per kind and file, all counted in ``problem_counts``):
``sitemap.invalid_xml``, ``sitemap.wrong_root``, ``sitemap.empty``, ``sitemap.not_a_sitemap``,
``sitemap.namespace``, ``sitemap.doctype``, ``sitemap.gzip``, ``sitemap.encoding``,
``sitemap.too_many_urls``, ``sitemap.too_large``, ``sitemap.missing_loc``, ``sitemap.relative_loc``,
``sitemap.loc_too_long``, ``sitemap.cross_host``, ``sitemap.duplicate_loc``,
``sitemap.invalid_lastmod``, ``sitemap.future_lastmod``, ``sitemap.invalid_changefreq``,
``sitemap.invalid_priority``; while walking (:class:`SitemapWalker`): ``sitemap.unreachable``,
``sitemap.blocked``, ``sitemap.http_status``, ``sitemap.redirected``, ``sitemap.index_cycle``,
``sitemap.listed_twice``, ``sitemap.nested_index``, ``sitemap.too_deep``, ``sitemap.max_files``,
``sitemap.max_urls``, ``sitemap.duplicate_across_files``; and with :func:`check_urls` the
``sitemap.url_*`` verdicts of :data:`CHECK_KINDS`.
"""

from __future__ import annotations

import asyncio
import re
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from emaudit.errors import UnreachableError, UsageError
from emaudit.urls import DEFAULT_PORTS, InvalidURL, normalise, origin_of, resolve, url_id

MAX_URLS = 50_000  # sitemaps.org: URLs per sitemap (and sitemaps per index)
MAX_BYTES = 50 * 1024 * 1024  # sitemaps.org: 50 MB (52,428,800 bytes) uncompressed
MAX_LOC_LENGTH = 2048  # sitemaps.org: <loc> "must be less than 2,048 characters"
MAX_PROBLEMS_PER_KIND = 100  # per file: a 50k-URL file with bad dates must not yield 50k dicts
FUTURE_TOLERANCE = timedelta(days=1)  # time zones and clock skew: only flag clearly future dates
CHUNK_SIZE = 64 * 1024
_SWEEP_EVERY = 1024  # ended elements kept before they are deleted from the parser's tree
MAX_TEXT_LINE = 64 * 1024  # a longer "line" means the document is not a text sitemap

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
IMAGE_NS = "http://www.google.com/schemas/sitemap-image/1.1"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
VIDEO_NS = "http://www.google.com/schemas/sitemap-video/1.1"
XHTML_NS = "http://www.w3.org/1999/xhtml"

URLSET = "urlset"
INDEX = "sitemapindex"
INVALID = "invalid"
_ITEM_OF_ROOT = {URLSET: "url", INDEX: "sitemap"}
CHANGEFREQS = frozenset({"always", "hourly", "daily", "weekly", "monthly", "yearly", "never"})
GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # flagged (sitemaps are UTF-8), read all the same

# W3C Datetime profile (https://www.w3.org/TR/NOTE-datetime): YYYY, YYYY-MM, YYYY-MM-DD, then
# hh:mm, hh:mm:ss or hh:mm:ss.s — a time always needs a zone designator (Z or ±hh:mm).
_W3C_RE = re.compile(
    r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?P<f>\.\d+)?)?(?P<tz>Z|[+-]\d{2}:\d{2}))?)?)?"
)


@dataclass(slots=True)
class SitemapEntry:
    """One ``<url>`` of a urlset (or ``<sitemap>`` of an index, or line of a text sitemap)."""

    loc: str
    lastmod: str | None = None
    line: int | None = None
    changefreq: str | None = None
    priority: str | None = None
    images: int = 0  # image:image children
    news: int = 0  # news:news children
    videos: int = 0  # video:video children
    alternates: int = 0  # xhtml:link rel="alternate" (hreflang) children
    key: str = field(default="", repr=False, compare=False)  # normalised loc (duplicate detection)

    def to_dict(self) -> dict[str, Any]:
        return {
            "loc": self.loc,
            "lastmod": self.lastmod,
            "line": self.line,
            "changefreq": self.changefreq,
            "priority": self.priority,
            "images": self.images,
            "news": self.news,
            "videos": self.videos,
            "alternates": self.alternates,
        }


@dataclass(slots=True)
class SitemapDoc:
    """What one sitemap document holds, and what is wrong with it."""

    url: str
    kind: str = INVALID  # urlset | sitemapindex | invalid
    entries: list[SitemapEntry] = field(default_factory=list)  # for an index: the child sitemaps
    error: str | None = None  # why the document is invalid (parser message), None when it parsed
    url_count: int = 0  # <loc>s read (one past 50,000 is counted, not kept: the file is over the limit)
    uncompressed_bytes: int = 0
    truncated: bool = False  # stopped at max_entries or max_bytes, or entries past 50,000 dropped
    problems: list[dict[str, Any]] = field(default_factory=list)
    problem_counts: dict[str, int] = field(default_factory=dict)
    format: str = "xml"  # xml | text
    compressed: bool = False  # the body was gzip (magic bytes), decompressed here
    namespace: str | None = None  # the root element's namespace as written
    lastmod_min: str | None = None
    lastmod_max: str | None = None

    @property
    def problem_total(self) -> int:
        return sum(self.problem_counts.values())

    def add_problem(self, kind: str, message: str, *, line: int | None = None, loc: str | None = None) -> None:
        """Record a problem; beyond MAX_PROBLEMS_PER_KIND of a kind only the count grows."""
        count = self.problem_counts.get(kind, 0) + 1
        self.problem_counts[kind] = count
        if count <= MAX_PROBLEMS_PER_KIND:
            problem: dict[str, Any] = {"kind": kind, "message": message}
            if line is not None:
                problem["line"] = line
            if loc is not None:
                problem["loc"] = loc
            self.problems.append(problem)

    def summary(self) -> dict[str, Any]:
        """JSON-ready description without the entries."""
        return {
            "url": self.url,
            "kind": self.kind,
            "format": self.format,
            "compressed": self.compressed,
            "namespace": self.namespace,
            "error": self.error,
            "url_count": self.url_count,
            "uncompressed_bytes": self.uncompressed_bytes,
            "truncated": self.truncated,
            "lastmod_min": self.lastmod_min,
            "lastmod_max": self.lastmod_max,
            "problem_counts": dict(sorted(self.problem_counts.items())),
            "problems": list(self.problems),
        }


# --------------------------------------------------------------------------- small parsers


def parse_w3c_datetime(value: str) -> datetime | None:
    """A W3C Datetime as an aware UTC datetime (date-only values: midnight UTC), or None."""
    match = _W3C_RE.fullmatch(value.strip())
    if match is None:
        return None
    g = match.groupdict()
    try:
        tz = _tz(g["tz"])
        moment = datetime(
            int(g["y"]), int(g["m"] or 1), int(g["d"] or 1), int(g["H"] or 0), int(g["M"] or 0),
            int(g["S"] or 0), int(float(g["f"] or 0) * 1_000_000), tzinfo=tz,
        )
    except ValueError:
        return None
    return moment.astimezone(timezone.utc)


def _tz(designator: str | None) -> timezone:
    if designator in (None, "Z"):
        return timezone.utc
    sign = 1 if designator[0] == "+" else -1
    hours, minutes = int(designator[1:3]), int(designator[4:6])
    if hours > 23 or minutes > 59:
        raise ValueError("bad zone offset")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def gunzip_capped(data: bytes, max_bytes: int) -> tuple[bytes, bool]:
    """Decompress gzip ``data`` to at most ``max_bytes``; ``True`` when the output was cut.

    Raises ``zlib.error`` for a corrupt or truncated stream.
    """
    out = b"".join(_gunzip_chunks(data, max_bytes + 1))
    if len(out) > max_bytes:
        return out[:max_bytes], True
    return out, False


def _gunzip_chunks(data: bytes, limit: int) -> Iterator[bytes]:
    """Yield decompressed chunks, ``limit`` bytes in all at most (multi-member gzip included).

    ``max_length`` bounds every step, so a bomb never materialises more than one chunk.
    """
    decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
    pending, room = data, limit
    while room > 0:
        out = decomp.decompress(pending, min(room, CHUNK_SIZE))
        room -= len(out)
        if out:
            yield out
        pending = decomp.unconsumed_tail
        if decomp.eof:
            if not decomp.unused_data.startswith(GZIP_MAGIC):
                return
            pending, decomp = decomp.unused_data, zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif not out and not pending:
            raise zlib.error("truncated gzip stream")


def _slices(body: bytes) -> Iterator[bytes]:
    for start in range(0, len(body), CHUNK_SIZE):
        yield body[start : start + CHUNK_SIZE]


_PREFIX_RE = re.compile(r"\s*([a-zA-Z][a-zA-Z0-9+.-]*://[^/?#\s]*)")


def _origin_key(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, default ports made explicit; None otherwise."""
    match = _PREFIX_RE.match(url)
    return _prefix_origin(match.group(1)) if match else None


@lru_cache(maxsize=1024)
def _prefix_origin(prefix: str) -> tuple[str, str, int] | None:
    """Cached per ``scheme://authority``: a sitemap holds thousands of URLs of one origin."""
    try:
        parts = urlsplit(prefix)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower().rstrip("."), port or DEFAULT_PORTS[scheme]


# URLs that emaudit.urls.normalise would return unchanged: lower-case scheme and host, no
# default port, only characters that need no escaping and no "%" (escapes get re-cased), no
# fragment.
_NORMAL_RE = re.compile(r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::(?!(?:80|443)/)[1-9][0-9]{0,4})?/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@/?]+)?")
_DOT_SEGMENT_RE = re.compile(r"/\.\.?(?:/|$|\?)")


def _loc_key(loc: str) -> str:
    """Identity of a loc for duplicate detection: the normalised URL when it has one.

    Most locs are already normal; recognising them saves ~60 % of a large file's parse time
    (measured on 60,000 URLs).
    """
    if _NORMAL_RE.fullmatch(loc) and not _DOT_SEGMENT_RE.search(loc):
        return loc
    try:
        return normalise(loc)
    except InvalidURL:
        return loc


# --------------------------------------------------------------------------- the reader


def _new_parser() -> Any:
    from lxml import etree

    return etree.XMLPullParser(
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _split_tag(tag: Any) -> tuple[str | None, str]:
    """(namespace, local name) of an lxml tag; ('', '') for entities and other non-elements."""
    if not isinstance(tag, str):
        return "", ""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return None, tag


class SitemapReader:
    """Streams one sitemap document into :class:`SitemapEntry` objects, filling :attr:`doc`.

    Reading stops after ``max_entries`` ``<loc>``s (``doc.truncated``). Entries are yielded, and
    kept in ``doc.entries`` when ``keep_urls`` or for an index, up to the sitemaps.org limit of
    50,000: the default ``max_entries`` reads one more, only to tell an over-limit file.
    ``allowed_origins`` are origins besides the sitemap's own that its URLs may use (sitemaps.org
    cross-submission through robots.txt).
    """

    def __init__(
        self,
        url: str,
        *,
        max_entries: int = MAX_URLS + 1,
        max_bytes: int = MAX_BYTES,
        keep_urls: bool = True,
        allowed_origins: Iterable[str] = (),
        now: datetime | None = None,
    ) -> None:
        self.doc = SitemapDoc(url=url)
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.keep_urls = keep_urls
        self._origin = _origin_key(url)
        self._allowed = {key for key in map(_origin_key, allowed_origins) if key}
        self._future = (now or datetime.now(timezone.utc)) + FUTURE_TOLERANCE
        self._seen: set[str] = set()
        self._lastmods: tuple[datetime, str, datetime, str] | None = None
        self.done = False  # max_entries reached: stop reading

    # -- input ----------------------------------------------------------------------------
    def read(self, body: bytes) -> Iterator[SitemapEntry]:
        """Yield the entries of ``body`` (plain or gzip); problems accumulate on :attr:`doc`."""
        chunks = self._capped(self._decoded(body))
        try:
            first = self._first_content(chunks)
            if first is None:
                self._fail("sitemap.empty", "document is empty")
                return
            if first.startswith(_UTF16_BOMS):
                self.doc.add_problem("sitemap.encoding", "document is UTF-16 (sitemaps must be UTF-8)")
            if first.lstrip().startswith(b"<") or first.startswith(_UTF16_BOMS):
                yield from self._read_xml(first, chunks)
            elif b"\0" in first:
                self._fail("sitemap.not_a_sitemap", "document is neither XML nor text (binary data)")
            else:
                yield from self._read_text(first, chunks)
        except zlib.error as exc:
            self._fail("sitemap.gzip", f"gzip: {exc}")
        finally:
            self._finish()

    def _decoded(self, body: bytes) -> Iterator[bytes]:
        if body.startswith(GZIP_MAGIC):
            self.doc.compressed = True
            return _gunzip_chunks(body, self.max_bytes + 1)
        return _slices(body)

    def _capped(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        """Pass chunks through until ``max_bytes``; then flag the file and stop."""
        for chunk in chunks:
            room = self.max_bytes - self.doc.uncompressed_bytes
            if len(chunk) > room:
                self.doc.uncompressed_bytes += room
                if room:
                    yield chunk[:room]
                self.doc.truncated = True
                self.doc.add_problem("sitemap.too_large", _too_large_message(self.max_bytes))
                return
            self.doc.uncompressed_bytes += len(chunk)
            yield chunk

    @staticmethod
    def _first_content(chunks: Iterator[bytes]) -> bytes | None:
        """The first chunk with something besides a BOM and white space (None: empty doc)."""
        for chunk in chunks:
            if chunk.startswith(_BOM):
                chunk = chunk[len(_BOM) :]
            if chunk.strip():
                return chunk
        return None

    def _fail(self, kind: str, message: str, line: int | None = None) -> None:
        self.doc.kind = INVALID
        self.doc.error = message
        self.doc.add_problem(kind, message, line=line)

    # -- XML ------------------------------------------------------------------------------
    def _read_xml(self, first: bytes, chunks: Iterator[bytes]) -> Iterator[SitemapEntry]:
        from lxml import etree

        parser = _new_parser()
        state = _XmlState()
        for chunk in _prepend(first, chunks):
            try:
                parser.feed(chunk)
            except etree.XMLSyntaxError as exc:
                yield from self._events(parser, state)
                self._xml_error(exc, state)
                return
            yield from self._events(parser, state)
            if state.stop or self.done:
                return
        if self.doc.truncated:  # cut at the byte cap: an unclosed document is expected
            return
        try:
            parser.close()
        except etree.XMLSyntaxError as exc:
            yield from self._events(parser, state)
            self._xml_error(exc, state)
            return
        yield from self._events(parser, state)

    def _xml_error(self, exc: Any, state: _XmlState) -> None:
        if state.stop:  # wrong root already reported
            return
        message = getattr(exc, "msg", None) or str(exc)  # libxml2's text, with line and column
        self._fail("sitemap.invalid_xml", f"XML error: {message}", getattr(exc, "lineno", None))

    def _events(self, parser: Any, state: _XmlState) -> Iterator[SitemapEntry]:
        """Turn pull-parser events into entries; ended elements are swept away in batches.

        Children of an item are read at their own end event, so nothing needs to stay in the
        tree once it has ended: memory is bounded by the open path plus one sweep's worth of
        elements, however many children (or bogus wrappers) a document holds.
        """
        stack = state.stack
        for event, elem in parser.read_events():
            if state.stop or self.done:
                return
            if event == "start":
                stack.append(elem)
                if len(stack) == 1:
                    self._on_root(elem, state)
                elif len(stack) == 2:
                    state.entry = self._start_item(elem, state)
                continue
            stack.pop()
            depth = len(stack)
            if depth == 2 and state.entry is not None:
                field_name = state.fields.get(elem.tag)
                if field_name is not None:
                    _apply_child(state.entry, elem, field_name)
            elif depth == 1:
                entry, state.entry = state.entry, None
                if entry is not None and self._has_loc(entry):
                    yield from self._accept(entry)
            state.ended += 1
            if state.ended >= _SWEEP_EVERY:
                state.sweep()

    def _on_root(self, root: Any, state: _XmlState) -> None:
        ns, local = _split_tag(root.tag)
        self.doc.namespace = ns
        if local not in _ITEM_OF_ROOT:
            state.stop = True
            self._fail("sitemap.wrong_root", f"root element is <{local}>, expected <urlset> or <sitemapindex>")
            return
        self.doc.kind = local
        state.ns, state.item, state.fields = ns, _ITEM_OF_ROOT[local], _child_fields(ns)
        if ns != SITEMAP_NS:
            written = f"namespace {ns!r}" if ns else "no namespace"
            self.doc.add_problem("sitemap.namespace", f"<{local}> has {written} (expected {SITEMAP_NS})")
        doctype = root.getroottree().docinfo.doctype
        if doctype:
            self.doc.add_problem("sitemap.doctype", f"document declares a DTD ({doctype}); entities were not expanded")

    @staticmethod
    def _start_item(elem: Any, state: _XmlState) -> SitemapEntry | None:
        """A new entry for ``<url>``/``<sitemap>``; None for any other child of the root."""
        ns, local = _split_tag(elem.tag)
        if local != state.item or ns != state.ns:
            return None
        return SitemapEntry(loc="", line=elem.sourceline)

    def _has_loc(self, entry: SitemapEntry) -> bool:
        if entry.loc:
            return True
        item = "sitemap" if self.doc.kind == INDEX else "url"
        self.doc.add_problem("sitemap.missing_loc", f"<{item}> without <loc>", line=entry.line)
        return False

    # -- text -----------------------------------------------------------------------------
    def _read_text(self, first: bytes, chunks: Iterator[bytes]) -> Iterator[SitemapEntry]:
        """sitemaps.org text format: one URL per line, UTF-8, nothing else."""
        self.doc.kind, self.doc.format = URLSET, "text"
        buffer, line_no = b"", 0
        for chunk in _prepend(first, chunks):
            *lines, buffer = (buffer + chunk).split(b"\n")
            for raw in lines:
                line_no += 1
                yield from self._text_line(raw, line_no)
                if self.done:
                    return
            if len(buffer) > MAX_TEXT_LINE:  # also keeps the concatenation above linear
                self._fail("sitemap.not_a_sitemap", f"line {line_no + 1} is over {MAX_TEXT_LINE:,} bytes: not a text sitemap")
                return
        if buffer and not self.doc.truncated:
            yield from self._text_line(buffer, line_no + 1)

    def _text_line(self, raw: bytes, line_no: int) -> Iterator[SitemapEntry]:
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            self.doc.add_problem("sitemap.encoding", "line is not valid UTF-8", line=line_no)
            text = raw.decode("utf-8", "replace").strip()
        if text:
            yield from self._accept(SitemapEntry(loc=text, line=line_no))

    # -- per entry --------------------------------------------------------------------------
    def _accept(self, entry: SitemapEntry) -> Iterator[SitemapEntry]:
        """Check, keep and yield one entry; past the limits, count it or stop reading."""
        doc = self.doc
        if doc.url_count >= self.max_entries:
            doc.truncated = self.done = True
            return
        doc.url_count += 1
        if doc.url_count > MAX_URLS:  # counted, to tell an over-limit file; search engines ignore it
            what = "sitemaps" if doc.kind == INDEX else "URLs"
            doc.add_problem("sitemap.too_many_urls", f"Sitemap lists more than {MAX_URLS:,} {what}", line=entry.line)
            doc.truncated = True
            return
        self._check_loc(entry)
        self._check_fields(entry)
        if self.keep_urls or doc.kind == INDEX:
            doc.entries.append(entry)
        yield entry

    def _check_loc(self, entry: SitemapEntry) -> None:
        loc, line = entry.loc, entry.line
        if len(loc) >= MAX_LOC_LENGTH:
            self.doc.add_problem("sitemap.loc_too_long", f"loc is {len(loc):,} characters (max {MAX_LOC_LENGTH - 1:,})", line=line, loc=loc)
        origin = _origin_key(loc)
        if origin is None:
            self.doc.add_problem("sitemap.relative_loc", "loc is not an absolute http(s) URL", line=line, loc=loc)
        elif self._origin is not None and origin != self._origin and origin not in self._allowed:
            self.doc.add_problem("sitemap.cross_host", _cross_host_message(origin, self._origin), line=line, loc=loc)
        key = entry.key = _loc_key(loc)
        if key in self._seen:
            self.doc.add_problem("sitemap.duplicate_loc", "loc is listed more than once in this file", line=line, loc=loc)
        else:
            self._seen.add(key)

    def _check_fields(self, entry: SitemapEntry) -> None:
        line, loc = entry.line, entry.loc
        if entry.lastmod is not None:
            self._check_lastmod(entry.lastmod, line, loc)
        if entry.changefreq is not None and entry.changefreq.lower() not in CHANGEFREQS:
            self.doc.add_problem("sitemap.invalid_changefreq", f"changefreq {entry.changefreq!r} is not one of {', '.join(sorted(CHANGEFREQS))}", line=line, loc=loc)
        if entry.priority is not None and not _valid_priority(entry.priority):
            self.doc.add_problem("sitemap.invalid_priority", f"priority {entry.priority!r} is not a number from 0.0 to 1.0", line=line, loc=loc)

    def _check_lastmod(self, value: str, line: int | None, loc: str) -> None:
        moment = parse_w3c_datetime(value)
        if moment is None:
            self.doc.add_problem("sitemap.invalid_lastmod", f"lastmod {value!r} is not a W3C Datetime", line=line, loc=loc)
            return
        if moment > self._future:
            self.doc.add_problem("sitemap.future_lastmod", f"lastmod {value} is in the future", line=line, loc=loc)
        if self._lastmods is None:
            self._lastmods = (moment, value, moment, value)
            return
        low, low_s, high, high_s = self._lastmods
        if moment < low:
            low, low_s = moment, value
        if moment > high:
            high, high_s = moment, value
        self._lastmods = (low, low_s, high, high_s)

    def _finish(self) -> None:
        if self._lastmods is not None:
            self.doc.lastmod_min, self.doc.lastmod_max = self._lastmods[1], self._lastmods[3]
        self._seen.clear()  # the doc outlives the reader: do not keep the key set alive


class _XmlState:
    """Where the pull parser is: the open elements, root namespace, the entry being read."""

    __slots__ = ("stack", "ended", "ns", "item", "fields", "entry", "stop")

    def __init__(self) -> None:
        self.stack: list[Any] = []  # open elements, root first
        self.ended = 0  # elements ended since the last sweep
        self.ns: str | None = None
        self.item = ""
        self.fields: dict[str, str] = {}
        self.entry: SitemapEntry | None = None
        self.stop = False

    def sweep(self) -> None:
        """Delete every ended element (lxml keeps the whole tree otherwise).

        The only child of an open element that is still open is its last one: the next
        element of the stack.
        """
        self.ended = 0
        innermost = len(self.stack) - 1
        for level, elem in enumerate(self.stack):
            del elem[: -1 if level < innermost else None]


_TEXT_FIELDS = ("loc", "lastmod", "changefreq", "priority")
_COUNTED = {f"{{{IMAGE_NS}}}image": "images", f"{{{NEWS_NS}}}news": "news", f"{{{VIDEO_NS}}}video": "videos"}
_ALTERNATE = f"{{{XHTML_NS}}}link"


def _child_fields(ns: str | None) -> dict[str, str]:
    """Full tag → what it sets on an entry, for the root's namespace (one dict look-up per child)."""
    prefix = f"{{{ns}}}" if ns else ""
    fields = {prefix + name: name for name in _TEXT_FIELDS}
    fields.update(_COUNTED)
    fields[_ALTERNATE] = "alternates"
    return fields


def _apply_child(entry: SitemapEntry, child: Any, field_name: str) -> None:
    """Copy one child element of ``<url>``/``<sitemap>`` into ``entry``."""
    if field_name == "loc":
        entry.loc = (child.text or "").strip()
    elif field_name in _TEXT_FIELDS:
        setattr(entry, field_name, (child.text or "").strip() or None)
    elif field_name != "alternates" or (child.get("rel") or "").lower() == "alternate":
        setattr(entry, field_name, getattr(entry, field_name) + 1)


def _valid_priority(value: str) -> bool:
    try:
        return 0.0 <= float(value) <= 1.0
    except ValueError:
        return False


def _too_large_message(max_bytes: int) -> str:
    if max_bytes >= MAX_BYTES:
        return f"Sitemap is over {MAX_BYTES:,} bytes (50 MB) uncompressed; reading stopped there"
    return f"Sitemap is over the {max_bytes:,}-byte read limit; reading stopped there"


def _cross_host_message(loc: tuple[str, str, int], own: tuple[str, str, int]) -> str:
    if loc[0] != own[0]:
        return f"loc uses {loc[0]} while the sitemap uses {own[0]}"
    return f"loc is on {_netloc(loc)}, the sitemap on {_netloc(own)}"


def _netloc(key: tuple[str, str, int]) -> str:
    scheme, host, port = key
    return host if port == DEFAULT_PORTS[scheme] else f"{host}:{port}"


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def iter_sitemap(
    body: bytes,
    url: str,
    *,
    max_entries: int = MAX_URLS + 1,
    max_bytes: int = MAX_BYTES,
    allowed_origins: Iterable[str] = (),
    now: datetime | None = None,
) -> Iterator[SitemapEntry]:
    """Stream the entries of one sitemap without keeping them (see :class:`SitemapReader`)."""
    reader = SitemapReader(
        url, max_entries=max_entries, max_bytes=max_bytes, keep_urls=False, allowed_origins=allowed_origins, now=now
    )
    yield from reader.read(body)


def parse_sitemap(
    body: bytes,
    url: str,
    *,
    max_entries: int = MAX_URLS + 1,
    max_bytes: int = MAX_BYTES,
    allowed_origins: Iterable[str] = (),
    now: datetime | None = None,
) -> SitemapDoc:
    """Parse one sitemap (XML urlset or index, gzip or not, or text) into a :class:`SitemapDoc`."""
    reader = SitemapReader(url, max_entries=max_entries, max_bytes=max_bytes, allowed_origins=allowed_origins, now=now)
    for _ in reader.read(body):
        pass
    return reader.doc


# --------------------------------------------------------------------------- walking indexes


@dataclass(slots=True)
class WalkLimits:
    """Bounds of one walk (defaults: sitemaps.org limits and a sane index depth)."""

    max_depth: int = 5  # index → index → … levels below a start file
    max_files: int = 1000
    max_urls: int = 500_000  # URLs read across files (memory of duplicate detection, output)
    max_redirects: int = 5
    max_bytes: int = MAX_BYTES


@dataclass(slots=True)
class SitemapFile:
    """One sitemap read (or tried) during a walk: where it came from, how it answered, its doc."""

    url: str
    via: str  # argument | robots | default | index | file
    depth: int = 0
    parent: str | None = None
    status: int | None = None  # HTTP status of the final answer (None: not fetched, or a local file)
    final_url: str | None = None  # after redirects
    content_type: str | None = None
    fetch_error: str | None = None
    doc: SitemapDoc | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)  # walk-level: HTTP, redirects, cycles
    allowed_origins: tuple[str, ...] = ()
    number: int = 0  # position in WalkResult.files
    parent_number: int | None = None
    problem_counts: dict[str, int] = field(default_factory=dict)  # of ``problems`` (which are capped)

    @property
    def ok(self) -> bool:
        return self.doc is not None

    @property
    def kind(self) -> str:
        return self.doc.kind if self.doc is not None else "unread"

    def add_problem(self, kind: str, message: str, **extra: Any) -> None:
        """Record a walk problem; like SitemapDoc.add_problem, capped per kind but counted."""
        count = self.problem_counts[kind] = self.problem_counts.get(kind, 0) + 1
        if count <= MAX_PROBLEMS_PER_KIND:
            self.problems.append({"kind": kind, "message": message, **extra})

    def all_problems(self) -> list[dict[str, Any]]:
        return self.problems + (self.doc.problems if self.doc is not None else [])

    def problem_total(self) -> int:
        return sum(self.problem_counts.values()) + (self.doc.problem_total if self.doc is not None else 0)

    def summary(self) -> dict[str, Any]:
        """JSON-ready description (problems are listed once, in the report's ``problems``)."""
        out = self.doc.summary() if self.doc is not None else {"kind": "unread", "url_count": 0}
        counts = dict(out.pop("problem_counts", {}))
        out.pop("problems", None)
        for kind, count in self.problem_counts.items():
            counts[kind] = counts.get(kind, 0) + count
        out.update(
            url=self.url, via=self.via, depth=self.depth, parent=self.parent, status=self.status,
            final_url=self.final_url, content_type=self.content_type, fetch_error=self.fetch_error,
            problem_counts=dict(sorted(counts.items())), problem_total=self.problem_total(),
        )
        return out


@dataclass(slots=True)
class WalkResult:
    """Everything a walk learnt, except the URLs themselves (those went to ``on_entry``)."""

    files: list[SitemapFile] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)  # not tied to one file
    url_count: int = 0
    unique_urls: int = 0
    duplicates: dict[str, list[str]] = field(default_factory=dict)  # loc → sitemaps (across files)
    duplicate_count: int = 0  # locs found in more than one file (all, even past the listed ones)
    truncated: bool = False

    def problem_total(self) -> int:
        return len(self.problems) + sum(f.problem_total() for f in self.files)

    def iter_problems(self) -> Iterator[dict[str, Any]]:
        """Every recorded problem, each naming its sitemap (walk-level ones last)."""
        for file in self.files:
            for problem in file.all_problems():
                yield {"sitemap": file.url, **problem}
        yield from self.problems

    def totals(self) -> dict[str, Any]:
        read = [f for f in self.files if f.ok]
        return {
            "files": len(self.files),
            "files_read": len(read),
            "urlsets": sum(f.kind == URLSET for f in read),
            "indexes": sum(f.kind == INDEX for f in read),
            "invalid": sum(f.kind == INVALID for f in read),
            "unread": len(self.files) - len(read),
            "urls": self.url_count,
            "unique_urls": self.unique_urls,
            "duplicates_across_files": self.duplicate_count,
            "bytes": sum(f.doc.uncompressed_bytes for f in read if f.doc),
            "problems": self.problem_total(),
            "truncated": self.truncated,
        }


Fetch = Callable[[str], Awaitable[Any]]  # url → emaudit.http.FetchResult
OnEntry = Callable[[SitemapEntry, SitemapFile, bool], None]  # entry, its file, first time seen
MAX_DUPLICATES_LISTED = 1000
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(slots=True)
class Source:
    """A starting point of a walk: a sitemap URL (or local file) and how it was found."""

    url: str
    via: str
    allowed_origins: tuple[str, ...] = ()


class SitemapWalker:
    """Reads sitemaps breadth-first through indexes: bounded, loop-safe, one file at a time.

    Files are fetched sequentially through ``fetch`` (the caller's rate-limited
    :func:`emaudit.http.fetch`); URL entries are handed to ``on_entry`` as they are parsed so
    the caller can stream them; only a 63-bit hash per URL is kept (cross-file duplicates).
    """

    def __init__(self, fetch: Fetch, *, limits: WalkLimits | None = None, on_entry: OnEntry | None = None) -> None:
        self.fetch = fetch
        self.limits = limits or WalkLimits()
        self.on_entry = on_entry
        self.result = WalkResult()
        self._first_file: dict[int, int] = {}  # url hash → number of the file that listed it first
        self._dup_keys: set[int] = set()
        self._dup_lists: dict[int, list[str]] = {}  # url hash → its entry in result.duplicates
        self._known: set[str] = set()  # normalised sitemap URLs already queued

    async def walk(self, sources: list[Source]) -> WalkResult:
        """Read ``sources`` and everything they reference (within the limits).

        Raises :class:`UnreachableError` when none of the sources given on the command line
        (or the default ``/sitemap.xml``) can be read.
        """
        for source in sources:
            self._enqueue(SitemapFile(url=source.url, via=source.via, allowed_origins=source.allowed_origins))
        files, done = self.result.files, 0
        while done < len(files) and not self.result.truncated:
            await self._read(files[done])
            done += 1
            if done == len(sources):
                _require_a_start(files[:done])
        self._summarise(len(files) - done)
        return self.result

    def _enqueue(self, file: SitemapFile) -> None:
        file.number = len(self.result.files)
        self._known.add(_loc_key(file.url))
        self.result.files.append(file)

    def _summarise(self, unread: int) -> None:
        problems = self.result.problems
        if unread:
            problems.append({"kind": "sitemap.max_urls", "message": f"{unread} sitemap(s) not read: the URL limit was reached"})
        if self.result.duplicate_count:
            problems.append({
                "kind": "sitemap.duplicate_across_files",
                "message": f"{self.result.duplicate_count:,} URL(s) are listed in more than one sitemap",
            })

    # -- one file ----------------------------------------------------------------------------
    async def _read(self, file: SitemapFile) -> None:
        body = await self._load(file)
        if body is None:
            return
        reader = SitemapReader(
            file.final_url or file.url,
            max_bytes=self.limits.max_bytes,
            keep_urls=False,
            allowed_origins=file.allowed_origins,
        )
        file.doc = reader.doc
        for entry in reader.read(body):
            if reader.doc.kind == URLSET and not self._take_url(entry, file):
                break
        if reader.doc.kind == INDEX:
            self._on_index(file)

    async def _load(self, file: SitemapFile) -> bytes | None:
        """The body of ``file`` (local path or URL), or None with the reason recorded."""
        if file.via == "file":
            return _read_local(file, self.limits.max_bytes)
        response = await self._get(file)
        if response is None:
            return None
        file.status, file.content_type = response.status, response.content_type
        if response.status is None:
            file.fetch_error = f"{response.error_kind}: {response.error}"
            if response.error_kind == "robots":
                file.add_problem("sitemap.blocked", "Sitemap is disallowed by robots.txt for our user agent (not read)")
            else:
                file.add_problem("sitemap.unreachable", f"Sitemap could not be fetched ({file.fetch_error})")
            return None
        if response.status != 200:
            file.fetch_error = f"HTTP {response.status}"
            file.add_problem("sitemap.http_status", f"Sitemap answered HTTP {response.status}")
            return None
        return response.body

    async def _get(self, file: SitemapFile) -> Any:
        """Fetch, following redirects by hand: each hop recorded, a budget and loop detection."""
        url, hops = file.url, {_loc_key(file.url)}
        for _ in range(self.limits.max_redirects + 1):
            response = await self.fetch(url)
            target = resolve(url, response.location) if response.status in _REDIRECTS and response.location else None
            if target is None:
                file.final_url = url if url != file.url else None
                return response
            file.add_problem("sitemap.redirected", f"Sitemap {url} redirects (HTTP {response.status}) to {target}")
            if _loc_key(target) in hops:
                return _give_up(file, "redirect loop", f"Sitemap redirect loop at {target}")
            url = target
            hops.add(_loc_key(target))
        return _give_up(file, "too many redirects", f"Sitemap redirects more than {self.limits.max_redirects} times")

    # -- URL entries ---------------------------------------------------------------------------
    def _take_url(self, entry: SitemapEntry, file: SitemapFile) -> bool:
        """Count and dispatch one URL; False once the walk's URL budget is spent."""
        result = self.result
        if result.url_count >= self.limits.max_urls:
            result.truncated = True
            result.problems.append(
                {"kind": "sitemap.max_urls", "message": f"Stopped after {self.limits.max_urls:,} URLs (--max-urls)", "sitemap": file.url}
            )
            return False
        result.url_count += 1
        first = self._first_seen(entry, file)
        if self.on_entry is not None:
            self.on_entry(entry, file, first)
        return True

    def _first_seen(self, entry: SitemapEntry, file: SitemapFile) -> bool:
        """True the first time a URL is met in the walk; notes repeats from another file."""
        key = url_id(entry.key or _loc_key(entry.loc))
        first = self._first_file.get(key)
        if first is None:
            self._first_file[key] = file.number
            self.result.unique_urls += 1
            return True
        if first != file.number:
            self._note_cross_file(key, entry.loc, first, file)
        return False

    def _note_cross_file(self, key: int, loc: str, first: int, file: SitemapFile) -> None:
        """Count a URL listed by several files; list the first MAX_DUPLICATES_LISTED of them."""
        if key not in self._dup_keys:
            self._dup_keys.add(key)
            self.result.duplicate_count += 1
            if len(self.result.duplicates) < MAX_DUPLICATES_LISTED:
                self._dup_lists[key] = self.result.duplicates.setdefault(loc, [self.result.files[first].url])
        files = self._dup_lists.get(key)
        if files is not None and file.url not in files:
            files.append(file.url)

    # -- index entries ----------------------------------------------------------------------------
    def _on_index(self, file: SitemapFile) -> None:
        assert file.doc is not None
        parent = self._parent(file)
        if parent is not None and parent.kind == INDEX:
            file.add_problem(
                "sitemap.nested_index",
                "Sitemap index is listed in another sitemap index (nesting is not part of the sitemaps.org protocol)",
            )
        for entry in file.doc.entries:
            self._child(file, entry)

    def _parent(self, file: SitemapFile) -> SitemapFile | None:
        return self.result.files[file.parent_number] if file.parent_number is not None else None

    def _child(self, parent: SitemapFile, entry: SitemapEntry) -> None:
        """Queue one child sitemap of an index, unless it is a loop, a repeat or over a limit."""
        if _origin_key(entry.loc) is None:
            return  # not an absolute http(s) URL: already a sitemap.relative_loc problem
        url, where = _loc_key(entry.loc), {"loc": entry.loc, "line": entry.line}
        cycle = self._cycle(parent, url)
        if cycle is not None:
            parent.add_problem("sitemap.index_cycle", cycle, **where)
        elif url in self._known:
            parent.add_problem("sitemap.listed_twice", "Sitemap is listed more than once in the walk (read once)", **where)
        elif parent.depth >= self.limits.max_depth:
            parent.add_problem("sitemap.too_deep", f"Sitemap is nested deeper than {self.limits.max_depth} levels (not read)", **where)
        elif len(self.result.files) >= self.limits.max_files:
            self._files_limit(parent)
        else:
            self._enqueue(SitemapFile(
                url=url, via="index", depth=parent.depth + 1, parent=parent.url,
                parent_number=parent.number, allowed_origins=parent.allowed_origins,
            ))

    def _cycle(self, parent: SitemapFile, key: str) -> str | None:
        """A message when ``key`` is ``parent`` itself or one of its ancestors."""
        node: SitemapFile | None = parent
        while node is not None:
            if key in (_loc_key(node.url), _loc_key(node.final_url or node.url)):
                return "Sitemap index lists itself" if node is parent else f"Sitemap index cycle: lists its ancestor {node.url}"
            node = self._parent(node)
        return None

    def _files_limit(self, parent: SitemapFile) -> None:
        if not any(p["kind"] == "sitemap.max_files" for p in self.result.problems):
            self.result.problems.append(
                {"kind": "sitemap.max_files", "message": f"Stopped at {self.limits.max_files:,} sitemap files (--max-files)", "sitemap": parent.url}
            )


def _give_up(file: SitemapFile, error: str, message: str) -> None:
    file.fetch_error = error
    file.add_problem("sitemap.unreachable", message)
    return None


def _require_a_start(starts: list[SitemapFile]) -> None:
    """Raise :class:`UnreachableError` when no start file could be read at all (exit 3).

    Sitemaps found in robots.txt are exempt: robots.txt answered, so the site is reachable and
    a dead ``Sitemap:`` line is a problem to report, not a failure to run.
    """
    if any(f.ok or f.via == "robots" for f in starts):
        return
    failed = starts[0]
    raise UnreachableError(f"cannot read sitemap {failed.url}: {failed.fetch_error or 'no answer'}")


def _read_local(file: SitemapFile, max_bytes: int) -> bytes | None:
    """A local sitemap file, read up to one byte past the cap so an oversize file is flagged."""
    try:
        with open(file.url, "rb") as handle:
            return handle.read(max_bytes + 1)
    except OSError as exc:
        file.fetch_error = f"{type(exc).__name__}: {exc.strerror or exc}"
        file.add_problem("sitemap.unreachable", f"Sitemap file could not be read ({file.fetch_error})")
        return None


# --------------------------------------------------------------------------- finding and fetching


class PacedFetcher:
    """Fetches sitemap files politely: robots.txt obeyed, requests spaced per origin.

    The spacing is ``1/rate`` seconds or the origin's robots.txt ``Crawl-delay`` (at most 60 s),
    whichever is longer, as in the crawler. A URL that robots.txt disallows is not fetched: the
    answer is a ``FetchResult`` with ``error_kind="robots"``. One byte past ``max_bytes`` is read
    so an oversize file is flagged rather than silently cut.
    """

    def __init__(
        self, client: Any, settings: Any, *, rate: float | None = None, max_bytes: int = MAX_BYTES, obey_robots: bool = True
    ) -> None:
        self.client, self.settings = client, settings
        self.interval = 1.0 / rate if rate else 0.0
        self.max_bytes = max_bytes
        self.obey_robots = obey_robots
        self.robots_txt: dict[str, Any] = {}  # origin → emaudit.robots.RobotsTxt
        self._unreachable: dict[str, Any] = {}  # origin → the failed robots.txt FetchResult
        self._next: dict[str, float] = {}

    async def __call__(self, url: str) -> Any:
        from emaudit.http import FetchResult

        if self.obey_robots:
            origin = origin_of(url)
            robots = await self.robots(origin)
            failed = self._unreachable.get(origin)
            if failed is not None:  # RFC 9309 §2.3.1.4: unreachable robots.txt means "disallow all"
                return FetchResult(url=url, error_kind=failed.error_kind, error=f"robots.txt unreachable: {failed.error}")
            if not robots.can_fetch(url, self.settings.user_agent):
                return FetchResult(url=url, error_kind="robots", error="disallowed by robots.txt for our user agent")
        return await self._get(url, self.max_bytes + 1)

    async def robots(self, origin: str) -> Any:
        """The origin's robots.txt (fetched once, redirects followed per RFC 9309)."""
        from emaudit.robots import MAX_BYTES as ROBOTS_MAX_BYTES
        from emaudit.robots import MAX_REDIRECTS, RobotsTxt

        if origin not in self.robots_txt:
            url = origin + "/robots.txt"
            response, hops = await _follow(lambda u: self._get(u, ROBOTS_MAX_BYTES + 1), url, MAX_REDIRECTS)
            robots = RobotsTxt.from_fetch(url, response.status, response.body, response.error, redirects=hops)
            self.robots_txt[origin] = robots
            if response.status is None:
                self._unreachable[origin] = response
        return self.robots_txt[origin]

    async def _get(self, url: str, max_bytes: int) -> Any:
        from emaudit.http import fetch

        await self._pace(origin_of(url))
        settings = self.settings
        return await fetch(
            self.client, url, max_bytes=max_bytes, retries=settings.retries,
            max_retry_wait=min(settings.max_retry_wait, 30.0), request_timeout=settings.timeout,
        )

    async def _pace(self, origin: str) -> None:
        interval = self.interval
        robots = self.robots_txt.get(origin)
        if self.obey_robots and robots is not None:
            interval = max(interval, min(robots.crawl_delay(self.settings.user_agent) or 0.0, 60.0))
        wait = self._next.get(origin, 0.0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._next[origin] = time.monotonic() + interval


def is_url(target: str) -> bool:
    return target.strip().lower().startswith(("http://", "https://"))


async def discover(target: str, fetcher: PacedFetcher) -> list[Source]:
    """Where to start reading: the sitemap itself, a local file, or a site's robots.txt.

    A site root or robots.txt URL yields the ``Sitemap:`` lines of ``<origin>/robots.txt``, or
    ``<origin>/sitemap.xml`` when there are none.
    """
    if not is_url(target):
        if Path(target).is_file():
            return [Source(target, "file")]
        raise UsageError(f"{target!r} is neither an http(s) URL nor a readable file")
    try:
        url = normalise(target)
    except InvalidURL as exc:
        raise UsageError(str(exc)) from exc
    parts = urlsplit(url)
    if parts.path == "/robots.txt" or (parts.path == "/" and not parts.query):
        return await _from_robots(f"{parts.scheme}://{parts.netloc}", fetcher)
    return [Source(url, "argument")]


async def _from_robots(origin: str, fetcher: PacedFetcher) -> list[Source]:
    robots = await fetcher.robots(origin)
    if robots.status is None:
        raise UnreachableError(f"cannot fetch {origin}/robots.txt: {robots.error or 'no answer'}")
    found = [url for url in (resolve(origin + "/", value) for value in robots.sitemaps) if url and is_url(url)]
    if not found:
        return [Source(origin + "/sitemap.xml", "default")]
    return [Source(url, "robots", allowed_origins=(origin,)) for url in dict.fromkeys(found)]


async def _follow(get: Fetch, url: str, max_hops: int) -> tuple[Any, list[str]]:
    """GET ``url`` following up to ``max_hops`` redirects; the response and the hops taken."""
    response, hops = await get(url), []
    while len(hops) < max_hops and response.status in _REDIRECTS and response.location:
        target = resolve(url, response.location)
        if target is None or not is_url(target) or target in hops or target == url:
            break
        url = target
        hops.append(url)
        response = await get(url)
    return response, hops


def read_sitemaps(
    target: str,
    *,
    settings: Any,
    limits: WalkLimits | None = None,
    on_entry: OnEntry | None = None,
    rate: float | None = None,
    obey_robots: bool = True,
) -> WalkResult:
    """Discover and walk the sitemaps of ``target`` with one shared, polite HTTP client.

    ``settings`` is an :class:`emaudit.http.HttpSettings`.
    """
    from emaudit.http import make_async_client

    limits = limits or WalkLimits()

    async def _run() -> WalkResult:
        async with make_async_client(settings) as client:
            fetcher = PacedFetcher(client, settings, rate=rate, max_bytes=limits.max_bytes, obey_robots=obey_robots)
            sources = await discover(target, fetcher)
            return await SitemapWalker(fetcher, limits=limits, on_entry=on_entry).walk(sources)

    return asyncio.run(_run())


# --------------------------------------------------------------------------- checking the URLs

CHECK_KINDS = (
    "sitemap.url_blocked",
    "sitemap.url_unreachable",
    "sitemap.url_redirected",
    "sitemap.url_not_200",
    "sitemap.url_noindex",
    "sitemap.url_canonicalised",
    "sitemap.url_unchecked",
)


@dataclass(slots=True)
class UrlCheck:
    """What fetching one sitemap URL showed: a sitemap should list only 200, indexable, canonical URLs."""

    loc: str
    status: int | None = None
    issues: list[dict[str, str]] = field(default_factory=list)  # {kind, message}

    def add(self, kind: str, message: str) -> None:
        self.issues.append({"kind": kind, "message": message})

    def to_dict(self) -> dict[str, Any]:
        return {"loc": self.loc, "status": self.status, "issues": list(self.issues)}


def check_urls(
    locs: list[str],
    *,
    settings: Any,
    rate: float | None = None,
    ignore_robots: bool = False,
    on_progress: Callable[[Any], None] | None = None,
) -> list[UrlCheck]:
    """Fetch ``locs`` with the crawler in list mode (no link following) and judge each one.

    The crawl goes into a temporary store, deleted afterwards: the crawler brings the same
    politeness as ``emaudit crawl`` (robots.txt, ``--rate``, crawl-delay, per-host concurrency,
    back-off) and the extraction of noindex and canonical; we only read its verdicts.
    """
    import tempfile

    from emaudit.crawler import CrawlOptions, run_crawl
    from emaudit.errors import Interrupted
    from emaudit.store import Store

    with tempfile.TemporaryDirectory(prefix="emaudit-sitemap-") as tmp:
        path = str(Path(tmp) / "check.emaudit.db")
        options = CrawlOptions(
            start_url=locs[0], store_path=path, list_urls=list(locs), sitemaps=False, resources=False,
            ignore_robots=ignore_robots, user_agent=settings.user_agent, concurrency=settings.concurrency,
            rate=rate, retries=settings.retries, timeout=settings.timeout, max_bytes=settings.max_bytes,
            http2=settings.http2, headers=dict(settings.headers), auth=settings.auth, verify_tls=settings.verify,
        )
        try:
            run_crawl(options, on_progress=on_progress)
        except Interrupted as exc:
            raise Interrupted("interrupted while checking the sitemap URLs (nothing was saved)") from exc
        with Store.open(path) as store:
            return _judge_all(locs, store)


def _judge_all(locs: list[str], store: Any) -> list[UrlCheck]:
    """Verdicts in ``locs`` order, read from the store in batches (one query per 500 URLs)."""
    pages = {p.url.id: (p.noindex, p.canonical_url) for p in store.iter_pages() if p.noindex or p.canonical_url}
    out: list[UrlCheck] = []
    for start in range(0, len(locs), 500):
        batch = locs[start : start + 500]
        keys = {loc: _check_key(loc) for loc in batch}
        records = store.get_many(url_id(k) for k in keys.values() if k)
        for loc in batch:
            key = keys[loc]
            record = records.get(url_id(key)) if key else None
            check = _judge(loc, record, pages.get(record.id) if record else None)
            if record is not None and record.state == "blocked":
                _explain_blocked(check, store.robots_for(origin_of(record.url)))
            out.append(check)
    return out


def _explain_blocked(check: UrlCheck, robots: dict[str, Any] | None) -> None:
    """An unreachable robots.txt also blocks (RFC 9309): say so rather than "disallowed"."""
    if robots is not None and robots.get("status") is None:
        check.issues = [{
            "kind": "sitemap.url_unreachable",
            "message": f"robots.txt could not be fetched ({robots.get('error')}): not fetched, per RFC 9309",
        }]


def _check_key(loc: str) -> str | None:
    try:
        return normalise(loc)
    except InvalidURL:
        return None


def _judge(loc: str, record: Any, page: tuple[bool, str | None] | None) -> UrlCheck:
    """One URL's verdict from its store row and, for HTML pages, its noindex and canonical."""
    check = UrlCheck(loc=loc, status=record.status if record else None)
    if record is None or record.state not in ("done", "blocked"):
        check.add("sitemap.url_unchecked", "URL was not fetched (not a valid URL, or the check stopped early)")
    elif record.state == "blocked":
        check.add("sitemap.url_blocked", "URL is disallowed by robots.txt")
    elif record.status is None:
        check.add("sitemap.url_unreachable", f"URL could not be fetched ({record.error_kind}: {record.error})")
    elif 300 <= record.status < 400:
        check.add("sitemap.url_redirected", f"URL redirects (HTTP {record.status}) to {record.location}")
    elif record.status != 200:
        check.add("sitemap.url_not_200", f"URL answered HTTP {record.status}")
    elif page is not None:
        _judge_page(check, record.url, *page)
    return check


def _judge_page(check: UrlCheck, url: str, noindex: bool, canonical: str | None) -> None:
    if noindex:
        check.add("sitemap.url_noindex", "URL is noindex (meta robots or X-Robots-Tag)")
    if canonical and canonical != url:
        check.add("sitemap.url_canonicalised", f"URL declares another canonical URL: {canonical}")


# --------------------------------------------------------------------------- the report

SCHEMA = "emaudit.sitemap/1"


def build_report(
    source: str, result: WalkResult, urls: list[dict[str, Any]], checks: list[UrlCheck] | None = None
) -> dict[str, Any]:
    """The ``--format json`` document (schema :data:`SCHEMA`); ``urls`` as collected by the caller."""
    from emaudit import __version__

    report: dict[str, Any] = {
        "schema": SCHEMA,
        "tool": {"name": "emaudit", "version": __version__},
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": source,
        "files": [f.summary() for f in result.files],
        "urls": urls,
        "duplicates": [{"loc": loc, "sitemaps": files} for loc, files in result.duplicates.items()],
        "problems": list(result.iter_problems()),
        "totals": result.totals(),
        "check": None,
    }
    if checks is not None:
        report["check"] = check_summary(checks)
        report["check"]["urls"] = [c.to_dict() for c in checks]
    return report


def check_summary(checks: list[UrlCheck]) -> dict[str, Any]:
    """Counts of a ``--check`` run: URLs checked, clean, and per issue kind."""
    counts: dict[str, int] = {}
    for check in checks:
        for issue in check.issues:
            counts[issue["kind"]] = counts.get(issue["kind"], 0) + 1
    return {"checked": len(checks), "ok": sum(not c.issues for c in checks), "issues": dict(sorted(counts.items()))}
