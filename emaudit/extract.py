"""HTML bytes → :class:`~emaudit.models.PageFacts`: the crawl's hot path.

The only module that parses HTML. One parse per page with libxml2's HTML parser through lxml
(~0.5 ms for a 46 KB page; BeautifulSoup costs ~19 ms, shared/PERF-NOTES.md), then three passes:

1. code: ``<script>``, ``<style>``, ``<template>`` and inline ``<svg>`` are read (script URLs,
   JSON-LD, tracking snippets) and emptied, so that no later text contains code or icon titles;
2. facts: one ``iter()`` restricted to the tags that carry facts or references, in document order
   (lxml filters the tags in C, so Python only sees the ~30 % of elements that matter);
3. text: noscript and page chrome emptied, the body serialised once by libxml2, then digested in
   slices for the word count, the content hash and the simhash (in C by ``emaudit._speedups``
   when it was built, else in Python: same results).

``bench/bench_extract.py`` measures it (~1.1–1.2 ms of CPU for a 46 KB page with 95 links here).

Choices the facts' consumers should know: titles keep up to 10,000 characters (length rules stay
exact), other texts 2,000, anchors 500; ``base_href`` and ``meta_refresh["raw"]`` are the
attributes as written; canonical and hreflang entries also say whether they sit in ``<head>``
(``in_head``; None for the Link header); references come in this order: Link header, scripts,
then every other element in document order.

Hostile input stays bounded: libxml2 (``huge_tree=False``) stops nesting at depth 255 and drops
deeper content, and drops a single text node over 10 MB; at most :data:`MAX_REFS` references and
:data:`MAX_ITEMS` entries per list fact are kept. :func:`extract` never raises: a bug in a pass
is logged as a warning and the facts learned so far are returned, so one odd page cannot stop a
crawl.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import math
import re
import threading
import unicodedata
from array import array
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from lxml import etree

from emaudit import urls
from emaudit.models import (
    LINK_A,
    LINK_CANONICAL,
    LINK_CSS,
    LINK_FORM,
    LINK_HREFLANG,
    LINK_IFRAME,
    LINK_IMG,
    LINK_NEXT,
    LINK_PREV,
    LINK_REFRESH,
    LINK_SCRIPT,
    PageFacts,
    Ref,
)

try:  # optional C digest of the main text (setup.py builds it when a compiler is there)
    from emaudit import _speedups
except ImportError:  # pragma: no cover - exercised by tests that hide the module
    _speedups = None  # type: ignore[assignment]

LOGGER = logging.getLogger(__name__)

MAX_REFS = 10_000  # references kept per page (the first ones); PageFacts.refs_truncated tells
MAX_ITEMS = 1_000  # entries kept per list or dict fact (headings, hreflangs, og:* …)
TITLE_CAP = 10_000  # titles keep their true length up to here: length rules stay exact
TEXT_CAP = 2_000  # descriptions, headings, alt, og:* values, attribute texts
ANCHOR_CAP = 500  # <a> anchor text
JSONLD_CAP = 1_000_000  # characters per JSON-LD block; larger blocks are reported, not parsed
FULL_SCAN_CAP = 16_384  # inline scripts up to this size get the full tracking/CMP scan
PRESCAN_BYTES = 4_096  # where <meta charset> is looked for before decoding
DETECT_SAMPLE = 65_536  # bytes given to the charset detector
TEXT_SLICE = 262_144  # characters of main text digested at a time (bounds memory on huge pages)

# ---------------------------------------------------------------------------------- decoding

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?\s*([^\s"';,]+)""", re.I)
_META_CHARSET_RE = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:-]+)""", re.I)
# WHATWG Encoding Standard: browsers decode these labels with a superset (windows-1252 for
# latin-1 and ascii, GBK for gb2312 …); pages declaring them rely on it.
_WHATWG_SUPERSETS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
    "utf-16": "utf-16-le",
}
_WHATWG_LABELS = {"x-sjis": "cp932", "windows-31j": "cp932", "iso-8859-8-i": "iso8859-8"}
# Python codecs a page must not select: they are not web encodings, and utf-7 was an XSS vector.
_UNSAFE_CODECS = frozenset(
    {"utf-7", "idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined", "mbcs", "oem"}
)
# Legacy encodings the detector may choose among (the WHATWG list, ASCII-compatible ones).
_LEGACY_WEB_CODECS = [
    "cp1252", "iso8859_15", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256",
    "cp1257", "cp1258", "cp874", "cp866", "koi8_r", "koi8_u", "iso8859_2", "iso8859_3",
    "iso8859_4", "iso8859_5", "iso8859_6", "iso8859_7", "iso8859_8", "iso8859_13",
    "mac_cyrillic", "cp932", "euc_jp", "gb18030", "big5hkscs", "cp949",
]  # fmt: skip


@lru_cache(maxsize=256)
def _codec_for(label: str) -> str | None:
    """The Python codec for a declared charset label, or None when it is unknown or unsafe."""
    label = label.strip().lower()
    label = _WHATWG_LABELS.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):  # unknown label, NUL or surrogate inside it
        return None
    if info.name in _UNSAFE_CODECS or not getattr(info, "_is_text_encoding", True):
        return None  # base64, rot13, zlib … are bytes-to-bytes transforms, not charsets
    return _WHATWG_SUPERSETS.get(info.name, info.name)


@lru_cache(maxsize=64)
def _ascii_compatible(codec: str) -> bool:
    try:
        return "<a href=x>".encode(codec) == b"<a href=x>"
    except (UnicodeError, LookupError):
        return False


def _declared_codec(body: bytes, content_type: str | None) -> tuple[str, str, int] | None:
    """(codec, source, BOM length) from the BOM, the HTTP header or a <meta> in the first 4 KB."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return codec, "bom", len(bom)
    match = _HEADER_CHARSET_RE.search(content_type or "")
    codec = _codec_for(match.group(1)) if match else None
    if codec:
        return codec, "header", 0
    match = _META_CHARSET_RE.search(body, 0, PRESCAN_BYTES)
    codec = _codec_for(match.group(1).decode("ascii")) if match else None
    if codec:
        # A <meta> readable as ASCII cannot be UTF-16 (WHATWG prescan rule).
        return ("utf-8" if codec.startswith("utf-16") else codec), "meta", 0
    return None


def _guess_legacy(body: bytes) -> str | None:
    """Ask charset_normalizer (when installed) for a legacy web encoding of a body that is not UTF-8.

    Short Western pages often score a tie between windows-1252 and its neighbours (cp1250,
    cp1257); the tie goes to windows-1252, the web's most common legacy encoding.
    """
    try:
        from charset_normalizer import from_bytes
    except ImportError:
        return None
    try:
        matches = list(from_bytes(body[:DETECT_SAMPLE], cp_isolation=_LEGACY_WEB_CODECS))
    except Exception:  # a third-party heuristic must not stop the crawl
        LOGGER.debug("charset detection failed", exc_info=True)
        return None
    if not matches:
        return None
    best = matches[0]
    if any(m.encoding == "cp1252" and m.chaos <= best.chaos for m in matches):
        return "cp1252"
    codec = _codec_for(best.encoding)
    return codec if codec and _ascii_compatible(codec) else None


def _decode(body: bytes, codec: str) -> tuple[str, bool]:
    try:
        return body.decode(codec), False
    except UnicodeDecodeError:
        return body.decode(codec, "replace"), True


def decode_html(body: bytes, content_type: str | None) -> tuple[str, str, str, bool]:
    """Decode an HTML body as a browser would → (text, encoding, encoding_source, had_errors).

    Order: BOM, HTTP ``Content-Type`` charset, ``<meta charset>``/``http-equiv`` in the first
    4 KB, then detection: strict UTF-8 (``detected``; ``default`` for pure ASCII), a legacy
    encoding guessed by charset_normalizer if installed (``detected``), else windows-1252
    (``default``). Labels follow the WHATWG Encoding Standard (``iso-8859-1`` decodes as
    windows-1252). ``encoding`` is Python's codec name; undecodable bytes become U+FFFD and set
    ``had_errors``. Never raises.
    """
    declared = _declared_codec(body, content_type)
    if declared:
        codec, source, skip = declared
        text, errors = _decode(body[skip:], codec)
        return text, codec, source, errors
    if body.isascii():
        return body.decode("ascii"), "utf-8", "default", False
    try:
        return body.decode("utf-8"), "utf-8", "detected", False
    except UnicodeDecodeError:
        pass
    codec = _guess_legacy(body)
    text, errors = _decode(body, codec or "cp1252")
    return text, codec or "cp1252", "detected" if codec else "default", errors


# ------------------------------------------------------------------------ robots directives

# Directives that carry a value after a colon; any other "name:" prefix names a user agent.
_VALUED_DIRECTIVES = frozenset({"max-snippet", "max-image-preview", "max-video-preview", "unavailable_after"})
_AGENT_RE = re.compile(r"([a-z][a-z0-9_.-]*)\s*:\s*(.*)", re.S)
_ROBOTS_META_RE = re.compile(r"robots|[\w.-]*bot(?:-[\w.-]+)?|slurp|yandex|baiduspider|teoma")


def _directive(token: str) -> str:
    name, colon, value = token.partition(":")
    return f"{name.strip()}:{value.strip()}" if colon else token


def parse_robots_directives(value: str) -> dict[str, list[str]]:
    """Parse a meta robots ``content`` or an ``X-Robots-Tag`` value → {agent: [directives]}.

    Directives are lower-cased and written ``name`` or ``name:value`` (``max-snippet:50``).
    Generic ones go under ``"robots"``. A ``googlebot:`` prefix switches the agent for the
    directives that follow it in the same value (Google's documented grammar:
    ``googlebot: noindex, nofollow``). A comma inside an ``unavailable_after`` date
    (``Friday, 25-Jun-2010``) continues the date instead of starting a directive.
    """
    out: dict[str, list[str]] = {}
    agent = "robots"
    for raw_token in value.split(","):
        token = " ".join(raw_token.split()).lower()
        if not token:
            continue
        match = _AGENT_RE.fullmatch(token)
        if match and match.group(1) not in _VALUED_DIRECTIVES:
            agent, token = match.group(1), match.group(2)
            if not token:
                continue
        directives = out.setdefault(agent, [])
        if token[0].isdigit() and directives and directives[-1].startswith("unavailable_after:"):
            directives[-1] += ", " + token
            continue
        token = _directive(token)
        if token not in directives:
            directives.append(token)
    return {agent: directives for agent, directives in out.items() if directives}


def _merge_directives(target: dict[str, list[str]], source: dict[str, list[str]]) -> None:
    for agent, directives in source.items():
        if agent not in target and len(target) >= MAX_ITEMS:
            continue
        known = target.setdefault(agent, [])
        known.extend(d for d in directives if d not in known)


# ------------------------------------------------------------------------------ Link header

_LINK_TARGET_RE = re.compile(r"\s*,?\s*<([^>]*)>")
_LINK_PARAM_RE = re.compile(r"""\s*;\s*([^\s=;,]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;,]*)))?""")
_QUOTED_PAIR_RE = re.compile(r"\\(.)")


def parse_link_header(value: str) -> list[dict[str, Any]]:
    """Parse an HTTP ``Link`` header (RFC 8288) → ``[{url_raw, rel, hreflang, …}]``.

    ``rel`` is lower-cased and space-separated ("" when absent), ``hreflang`` lower-cased (None
    when absent); other parameters are kept under their lower-cased names. As the RFC says, a
    parameter repeated within one link keeps its first value. Unparseable parts are skipped.
    """
    links: list[dict[str, Any]] = []
    pos = 0
    while pos < len(value):
        target = _LINK_TARGET_RE.match(value, pos)
        if target is None:
            comma = value.find(",", pos + 1)
            if comma < 0:
                break
            pos = comma
            continue
        link: dict[str, Any] = {"url_raw": target.group(1).strip(), "rel": "", "hreflang": None}
        pos = target.end()
        seen: set[str] = set()
        while param := _LINK_PARAM_RE.match(value, pos):
            pos = param.end()
            name = param.group(1).lower()
            if name in seen or name == "url_raw":
                continue
            seen.add(name)
            quoted = param.group(2)
            text = _QUOTED_PAIR_RE.sub(r"\1", quoted) if quoted is not None else param.group(3) or ""
            link[name] = " ".join(text.lower().split()) if name in ("rel", "hreflang") else text
        links.append(link)
    return links


# ---------------------------------------------------------------------------------- simhash


@lru_cache(maxsize=16_384)
def _word_keys(word: str) -> bytes:
    """Three independent, stable 64-bit hashes of a word (Python's hash() is salted per process).

    Cached across pages: a site repeats its vocabulary, and a cache hit costs ~50 ns.
    """
    return _word_key_bytes(word.encode("utf-8", "replace"))


def _word_key_bytes(word: bytes) -> bytes:
    return hashlib.blake2b(word, digest_size=24).digest()


def simhash64(words: list[str]) -> int | None:
    """64-bit simhash of the 3-word shingles of ``words``, as a signed int64 (None: no words).

    Shingle i hashes to ``A(w[i]) ^ B(w[i+1]) ^ C(w[i+2])`` with A, B, C three independent
    64-bit word hashes: uniform, and sensitive to word order. Fewer than three words make one
    shingle. Both the shingle hashes and the 64 per-bit votes are computed with whole-page
    big-integer operations (xor, and, bit_count) rather than per-shingle Python code: ~0.1 ms
    for 1,000 words instead of ~5 ms.
    """
    if not words:
        return None
    votes = [0] * 64
    count = _add_votes(_padded(b"".join(map(_word_keys, words))), votes)
    return _simhash_from(votes, count)


def _padded(keys: bytes) -> bytes:
    """Word keys padded with null words up to three: a one- or two-word text is one shingle."""
    return keys + bytes(max(0, 72 - len(keys)))


def _add_votes(keys: bytes, votes: list[int]) -> int:
    """Add the per-bit set counts of the shingles of ``keys`` (24 bytes per word) to ``votes``.

    Returns the number of shingles. All the work is done on big integers: the shingle hashes
    are one xor of three shifted integers, each bit's count one ``and`` + ``bit_count``.
    """
    view = memoryview(keys).cast("Q")  # unit stride only: the bytes themselves are not reordered
    count = len(view) // 3 - 2
    if count <= 0:
        return 0
    first, second, third = (int.from_bytes(view[i::3].tobytes(), "little") for i in range(3))
    shingles = (first ^ (second >> 64) ^ (third >> 128)).to_bytes(8 * (count + 2), "little")[: 8 * count]
    masks = [int.from_bytes(bytes([1 << bit]) * count, "little") for bit in range(8)]
    for byte_index in range(8):
        column = int.from_bytes(shingles[byte_index::8], "little")
        for bit, mask in enumerate(masks):
            votes[byte_index * 8 + bit] += (column & mask).bit_count()
    return count


def _simhash_from(votes: list[int], count: int) -> int:
    """Bit k is set when most shingles have it set; returned as a signed int64 (SQLite INTEGER)."""
    result = sum(1 << k for k, ones in enumerate(votes) if ones * 2 > count)
    return result - (1 << 64) if result >> 63 else result


class _TextDigest:
    """Word count, content hash and simhash of a text fed in slices, in bounded memory.

    A 10 MB page of words would otherwise hold ~2 million word objects and their hashes at once
    (~330 MB measured); slices of :data:`TEXT_SLICE` characters keep it to a few MB. Shingles
    that straddle two slices are kept by carrying the last two words' hashes over.
    """

    def __init__(self) -> None:
        self.word_count = 0
        self._sha1 = hashlib.sha1()
        self._votes: Any = array("q", bytes(512)) if _speedups is not None else [0] * 64
        self._shingles = 0
        self._carry = b""  # hashes of the last two words seen
        self._separator = ""  # " " once some text was hashed

    def feed(self, text: str) -> None:
        """Add a slice of lower-cased, NFC-normalised text that starts and ends at whitespace."""
        if _speedups is not None:
            try:
                joined, words, shingles, carry = _speedups.digest_slice(text, self._carry, self._votes, _word_key_bytes)
            except UnicodeEncodeError:  # lone surrogates: not UTF-8, the Python digest takes them
                pass
            else:
                if joined:
                    self._sha1.update(self._separator.encode() + joined)
                    self._separator = " "
                    self.word_count += words
                    self._shingles += shingles
                    self._carry = carry
                return
        self._feed_python(text)

    def _feed_python(self, text: str) -> None:
        chunks = text.split()
        if not chunks:
            return
        self._sha1.update((self._separator + " ".join(chunks)).encode("utf-8", "replace"))
        self._separator = " "
        words = _words(chunks)
        self.word_count += len(words)
        keys = self._carry + b"".join(map(_word_keys, words))
        self._shingles += _add_votes(keys, self._votes)
        self._carry = keys[-48:]

    def content_hash(self) -> str | None:
        return self._sha1.hexdigest() if self.word_count else None

    def simhash(self) -> int | None:
        if not self.word_count:
            return None
        if self.word_count < 3:
            votes = [0] * 64
            return _simhash_from(votes, _add_votes(_padded(self._carry), votes))
        return _simhash_from(self._votes, self._shingles)


# -------------------------------------------------------------- tracking tags and consent

TRACKING, CMP = "tracking", "cmp"


class _Signature(NamedTuple):
    """A tracking tag or CMP fingerprint in script URLs or inline script text.

    ``pattern`` starts with a plain literal character and holds exactly one group: the tag id
    (reported as ``id_prefix`` + group), or ``()`` when the signature only proves presence.
    Starting with a literal lets all patterns merge, by first character, into one alternation
    that ``re`` scans in a single pass (~30 ns per byte; 62 separate regexes cost 2.5x more).
    """

    category: str
    name: str
    pattern: str
    id_prefix: str = ""


_SIGNATURES: tuple[_Signature, ...] = tuple(
    _Signature(*fields)
    for fields in (
        (TRACKING, "ga4", r"G-(?<![\w-]G-)([A-Z0-9]{6,12})(?![\w-])", "G-"),
        (TRACKING, "universal_analytics", r"UA-(?<![\w-]UA-)(\d{4,10}-\d{1,4})(?![\w-])", "UA-"),
        (TRACKING, "gtm", r"GTM-(?<![\w-]GTM-)([A-Z0-9]{4,9})(?![\w-])", "GTM-"),
        (TRACKING, "google_ads", r"AW-(?<![\w-]AW-)(\d{6,12})(?![\w-])", "AW-"),
        (TRACKING, "matomo", r"matomo\.(?:js|php)()"),
        (TRACKING, "matomo", r"piwik\.(?:js|php)()"),
        (TRACKING, "matomo", r"setSiteId['\"]\s*,\s*['\"]?(\d+)"),
        (TRACKING, "meta_pixel", r"fbq\(\s*['\"]init['\"]\s*,\s*['\"]?(\d+)"),
        (TRACKING, "meta_pixel", r"connect\.facebook\.net/signals/config/(\d+)"),
        (TRACKING, "meta_pixel", r"connect\.facebook\.net/[\w-]+/fbevents()"),
        (TRACKING, "linkedin_insight", r"_linkedin_partner_id\s*=\s*['\"]?(\d+)"),
        (TRACKING, "linkedin_insight", r"snap\.licdn\.com()"),
        (TRACKING, "hotjar", r"hjid\s*:\s*['\"]?(\d+)"),
        (TRACKING, "hotjar", r"static\.hotjar\.com/c/hotjar-(\d+)"),
        (TRACKING, "hotjar", r"static\.hotjar\.com()"),
        (TRACKING, "clarity", r"clarity\.ms/tag/(\w+)"),
        (TRACKING, "clarity", r'"clarity"\s*,\s*"script"\s*,\s*"(\w+)"'),
        (TRACKING, "clarity", r"'clarity'\s*,\s*'script'\s*,\s*'(\w+)'"),
        (TRACKING, "tiktok_pixel", r"ttq\.load\(\s*['\"](\w+)['\"]"),
        (TRACKING, "tiktok_pixel", r"analytics\.tiktok\.com/i18n/pixel/events\.js\?sdkid=(\w+)"),
        (TRACKING, "tiktok_pixel", r"analytics\.tiktok\.com()"),
        (TRACKING, "pinterest_tag", r"pintrk\(\s*['\"]load['\"]\s*,\s*['\"]?(\d+)"),
        (TRACKING, "pinterest_tag", r"s\.pinimg\.com/ct/core\.js()"),
        (TRACKING, "bing_uet", r"bat\.bing\.com()"),
        (TRACKING, "bing_uet", r"{\s*ti\s*:\s*['\"]?(\d{4,})"),
        (TRACKING, "plausible", r"plausible\.io/js/()"),
        (TRACKING, "plausible", r"/js/plausible\.()"),
        (TRACKING, "at_internet", r"tag\.aticdn\.net/(\d+)/"),
        (TRACKING, "at_internet", r"tag\.aticdn\.net()"),
        (TRACKING, "at_internet", r"ATInternet\.Tracker\.Tag\(\s*\{[^}]{0,500}?site\s*:\s*['\"]?(\d+)"),
        (TRACKING, "at_internet", r"pa\.setConfigurations\(\s*\{[^}]{0,500}?site\s*:\s*['\"]?(\d+)"),
        (TRACKING, "at_internet", r"piano-analytics\.js()"),
        (TRACKING, "at_internet", r"smarttag\.js()"),
        (CMP, "didomi", r"Didomi()"),
        (CMP, "didomi", r"didomi()"),
        (CMP, "didomi", r"privacy-center\.org()"),
        (CMP, "onetrust", r"OneTrust()"),
        (CMP, "onetrust", r"onetrust()"),
        (CMP, "onetrust", r"Optanon()"),
        (CMP, "onetrust", r"optanon()"),
        (CMP, "onetrust", r"cookielaw\.org()"),
        (CMP, "onetrust", r"cookiepro\.com()"),
        (CMP, "axeptio", r"axept\.io()"),
        (CMP, "axeptio", r"Axeptio()"),
        (CMP, "axeptio", r"axeptio()"),
        (CMP, "cookiebot", r"Cookiebot()"),
        (CMP, "cookiebot", r"cookiebot()"),
        (CMP, "tarteaucitron", r"tarteaucitron()"),
        (CMP, "usercentrics", r"Usercentrics()"),
        (CMP, "usercentrics", r"usercentrics()"),
        (CMP, "quantcast", r"cmp\.quantcast\.com()"),
        (CMP, "quantcast", r"quantcast\.mgr\.consensu\.org()"),
        (CMP, "quantcast", r"cmp\.inmobi\.com()"),
        (CMP, "sirdata", r"consentframework\.com()"),
        (CMP, "sirdata", r"Sirdata()"),
        (CMP, "sirdata", r"sirdata()"),
        (CMP, "cookieyes", r"CookieYes()"),
        (CMP, "cookieyes", r"cookieyes()"),
        (CMP, "iubenda", r"iubenda()"),
        (CMP, "trustarc", r"TrustArc()"),
        (CMP, "trustarc", r"trustarc()"),
        (CMP, "trustarc", r"truste\.com()"),
        (CMP, "complianz", r"complianz()"),
        (CMP, "complianz", r"cmplz_()"),
    )
)
_GOOGLE_TAG_IDS = frozenset({"ga4", "universal_analytics", "gtm", "google_ads"})


_Scanner = tuple[re.Pattern[str], dict[int, _Signature]]


def _compile_signatures(signatures: Sequence[_Signature]) -> _Scanner:
    """One alternation factored by first character → (regex, {group index: signature})."""
    by_first: dict[str, list[_Signature]] = {}
    for signature in signatures:
        first = signature.pattern[0]
        if not (first.isalnum() or first in "_\"'/{"):
            raise ValueError(f"signature {signature.name} must start with a plain literal: {signature.pattern}")
        by_first.setdefault(first, []).append(signature)
    branches, by_group = [], {}
    for first, group in by_first.items():
        branches.append(re.escape(first) + "(?:" + "|".join(sig.pattern[1:] for sig in group) + ")")
        for signature in group:
            by_group[len(by_group) + 1] = signature
    regex = re.compile("|".join(branches))
    if regex.groups != len(by_group):
        raise ValueError("each signature pattern must hold exactly one group")
    return regex, by_group


_FULL_SCAN = _compile_signatures(_SIGNATURES)
_ID_SCAN = _compile_signatures([s for s in _SIGNATURES if s.name in _GOOGLE_TAG_IDS])


def _scan_signatures(text: str, scanner: _Scanner, found: dict[tuple[str, str, str], None]) -> None:
    """Add every (category, name, id) found in ``text`` to ``found`` (an ordered set)."""
    regex, by_group = scanner
    for match in regex.finditer(text):
        index = match.lastindex or 0
        signature = by_group[index]
        tag_id = match.group(index)
        found[(signature.category, signature.name, signature.id_prefix + tag_id if tag_id else "")] = None


def _tracking_facts(found: dict[tuple[str, str, str], None]) -> tuple[list[dict[str, str]], list[str]]:
    """(tracking tags, CMP names) in discovery order; a vendor seen with an id drops its "" entry."""
    with_id = {name for category, name, tag_id in found if category == TRACKING and tag_id}
    tracking = [
        {"vendor": name, "id": tag_id}
        for category, name, tag_id in found
        if category == TRACKING and (tag_id or name not in with_id)
    ]
    cmps = list(dict.fromkeys(name for category, name, _ in found if category == CMP))
    return tracking, cmps


# ------------------------------------------------------------------------------- HTML helpers

_PARSERS = threading.local()  # lxml parsers are cheap but not meant to be shared across threads
_CODE_TAGS = ("script", "style", "template", "svg")
_CHROME_TAGS = ("nav", "header", "footer", "aside")
# Elements after which a browser breaks the line (or the cell): their end separates words.
_BLOCK_TAGS = (
    "address", "article", "aside", "blockquote", "br", "button", "dd", "details", "div", "dl",
    "dt", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "label", "li", "main", "nav", "ol", "option", "p", "pre", "section", "summary", "table",
    "td", "th", "tr", "ul",
)  # fmt: skip
_WORD_RE = re.compile(r"\w+")
_SPACE_RE = re.compile(r"\s")
_XML_UNSAFE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_REFRESH_RE = re.compile(r"\s*(\d*\.?\d*)[\s;,]*(?:url\s*=\s*)?(.*)", re.I | re.S)
_ITEMTYPES = etree.XPath("//@itemtype", smart_strings=False)
_JSON = json.JSONDecoder(strict=False)  # json.loads(strict=False) would build a decoder per call
# The parse processes' URL cache: (base, raw href) → resolved URL, for menus, footers and popular
# pages. 4,096 entries answer ~50 % of the bench site's hrefs; 16,384 answered ~77 % but held
# ~4.6 MB more in each parse process for 0.03–0.05 ms a page. urls' inner caches are kept small, as
# they mostly held the same entries again. A miss goes through urls.resolve_quick: ~1 µs for a
# clean href instead of ~2.7 µs (the bench site's ~55 misses a page: parse_page 1.83 → 1.71 ms).
_shared_resolve = lru_cache(maxsize=4096)(urls.resolve_quick)


def _parser() -> etree.HTMLParser:
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = etree.HTMLParser(
            recover=True, no_network=True, remove_comments=True, remove_pis=True, huge_tree=False, encoding="utf-8",
            collect_ids=False,  # no id → element table: nothing looks elements up by id (~5 % of the parse)
        )
    return parser


def _parse(text: str, utf8: bytes | None = None) -> etree._Element | None:
    """The document's root element, or None when libxml2 finds no element at all.

    ``utf8``: the same document already as UTF-8 bytes (a body that decoded as UTF-8 without
    error), passed as it is instead of re-encoding ``text`` (~0.05 ms a page).
    """
    try:
        return etree.fromstring(utf8 if utf8 is not None else text.encode("utf-8"), _parser())
    except etree.LxmlError:
        return None


def _collapse(text: str | None, cap: int) -> str:
    """Whitespace-collapsed ``text``, cut at ``cap`` characters."""
    return " ".join(text.split())[:cap] if text else ""


def _tokens(value: str | None) -> str:
    """A space-separated attribute (rel) lower-cased and normalised."""
    return " ".join(value.lower().split()) if value else ""


def _separate_blocks(root: etree._Element) -> None:
    """Put whitespace after every block element, as a browser's rendering does.

    Minified HTML has none between tags: "</p><p>", "</li><li>", "<br>" would glue the last
    word of one block to the first of the next, in the main text and in anchors and headings.
    Only tails are touched (~0.07 ms a page); rewriting each block's leading text as well
    would also split "Intro<p>Para" but costs ~0.2 ms, for a rarer case.
    """
    for el in root.iter(_BLOCK_TAGS):
        tail = el.tail
        if tail is None:
            el.tail = " "
        elif not tail[0].isspace() and _xml_safe(tail):
            el.tail = " " + tail


def _xml_safe(text: str) -> bool:
    """Whether lxml accepts ``text`` back: it refuses control characters, and a refused
    assignment to ``.text`` or ``.tail`` would already have deleted the old text."""
    return text.isprintable() or _XML_UNSAFE_RE.search(text) is None


def _text(el: etree._Element) -> str:
    """All the text inside ``el``: libxml2's text serialiser is ~6x faster than ``itertext()``."""
    return etree.tostring(el, method="text", encoding=str, with_tail=False)


def _text_with_alts(el: etree._Element) -> str:
    """Text of ``el`` with the alt text of its images where they stand (headings)."""
    if not len(el):
        return el.text or ""
    if next(el.iter("img"), None) is None:
        return _text(el)
    parts: list[str] = []
    for event, node in etree.iterwalk(el, events=("start", "end")):
        if event == "start":
            if node.tag == "img":
                parts.append(f" {node.get('alt') or ''} ")
            parts.append(node.text or "")
        elif node is not el:
            parts.append(node.tail or "")
    return "".join(parts)


def _slices(text: str, size: int) -> Iterator[str]:
    """``text`` in pieces of about ``size`` characters, cut at whitespace (words stay whole)."""
    start = 0
    while start < len(text):
        space = _SPACE_RE.search(text, start + size) if start + size < len(text) else None
        end = space.start() if space else len(text)
        yield text[start:end]
        start = end


def _words(chunks: list[str]) -> list[str]:
    """The ``\\w+`` tokens of whitespace-separated ``chunks``.

    Same result as ``_WORD_RE.findall(text)`` at ~60 % of its cost: most chunks are plain
    words (``str.isalnum`` holds exactly when the whole chunk is one ``\\w+`` match), and only
    the others ("l'été", "prix:") go through the regex.
    """
    words: list[str] = []
    for chunk in chunks:
        if chunk.isalnum():
            words.append(chunk)
        else:
            words += _WORD_RE.findall(chunk)
    return words


def _jsonld_types(data: Any) -> list[str]:
    """@type values of the top-level nodes and of the members of their @graph."""
    types: dict[str, None] = {}
    for node in data if isinstance(data, list) else [data]:
        if not isinstance(node, dict):
            continue
        graph = node.get("@graph")
        members = graph if isinstance(graph, list) else [graph]
        for member in [node, *members]:
            if isinstance(member, dict):
                value = member.get("@type")
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, str):
                        types[item] = None
    return list(types)


def _jsonld(text: str) -> dict[str, Any]:
    """One JSON-LD block → {types, data, error}. Control characters inside strings are accepted."""
    if len(text) > JSONLD_CAP:
        return {"types": [], "data": None, "error": f"block of {len(text):,} characters exceeds {JSONLD_CAP:,}"}
    try:
        data = _JSON.decode(text)
    except (ValueError, RecursionError) as exc:
        return {"types": [], "data": None, "error": str(exc) or type(exc).__name__}
    return {"types": _jsonld_types(data), "data": data, "error": None}


def _parse_refresh(content: str) -> tuple[float | None, str | None]:
    """``"5; url='/x'"`` → (5.0, "/x"), following the HTML spec's lenient refresh grammar."""
    match = _REFRESH_RE.match(content)  # every part is optional: it always matches
    delay_text, target = match.group(1), match.group(2).strip()  # type: ignore[union-attr]
    try:
        delay: float | None = float(delay_text)
    except ValueError:
        delay = None
    if delay is not None and not math.isfinite(delay):
        delay = None
    if target[:1] in ("'", '"'):
        target = target[1:].split(target[0], 1)[0]
    return delay, target or None


def _header_values(headers: Mapping[str, Any] | None, name: str) -> list[str]:
    """All values of a header, case-insensitively; httpx.Headers keeps repeated headers apart."""
    if not headers:
        return []
    if hasattr(headers, "get_list"):
        return [str(v) for v in headers.get_list(name)]
    values: list[str] = []
    for key, value in headers.items():
        if str(key).lower() == name:
            values.extend(str(v) for v in (value if isinstance(value, (list, tuple)) else [value]))
    return values


# -------------------------------------------------------------------------------- extraction


class _Extractor:
    """One page's extraction: the facts being filled and what resolving its URLs needs."""

    def __init__(self, facts: PageFacts, url: str, strip_query: tuple[str, ...]) -> None:
        self.facts = facts
        self.url = url
        self.base = url  # replaced by <base href> before any relative URL is resolved
        self.strip_query = strip_query
        self.https = url[:6].lower() == "https:"
        self.head: etree._Element | None = None
        self.has_main = False
        self.hidden: list[etree._Element] = []  # noscript and page chrome, emptied for the text
        self.signatures: dict[tuple[str, str, str], None] = {}
        self.mixed: dict[str, None] = {}
        self.origin = urls.origin_of(url) + "/"
        self.directory = urls.directory_of(url)

    # ---- helpers
    def resolve(self, raw: str | None) -> str | None:
        """``urls.resolve`` against the base, through a cache shared by all pages.

        Most links of a site are root-relative or absolute (menus, footers): their result does
        not depend on the page's path, so they are cached under the origin, or no base at all,
        and hit the cache on every page of the site. A relative path ("x.html", "../p/x.html")
        depends only on the base's directory (RFC 3986 merges it with the base path up to its
        last "/"), so it is cached under that directory and hits for every page of the folder.
        Only "?…", "#…" and the empty reference need the whole base.
        """
        if raw is None:
            return None
        first = raw[:1]
        if first == "/":  # root- or protocol-relative: only the base's scheme and origin matter
            base = self.origin
        elif first in "hH" and raw[:8].lower().startswith(("http://", "https://")):
            base = ""
        elif first.isalnum() or first == ".":
            base = self.directory
        else:
            base = self.base
        return _shared_resolve(base, raw, self.strip_query)

    def room(self) -> bool:
        """Whether another reference may be kept (MAX_REFS); notes the truncation otherwise."""
        if len(self.facts.refs) < MAX_REFS:
            return True
        self.facts.refs_truncated = True
        return False

    def subresource(self, raw: str | None) -> str | None:
        """Resolve the URL of something the page loads, noting it when it is mixed content."""
        url = self.resolve(raw)
        if self.https and url is not None and url.startswith("http://"):
            self.mixed[url] = None
        return url

    def resource(self, kind: str, raw: str | None, extra: dict[str, Any] | None = None) -> None:
        """A sub-resource reference (script, css, iframe)."""
        url = self.subresource(raw)
        if self.room():
            self.facts.refs.append(Ref(kind=kind, url=url, raw=raw, extra=extra))

    # ---- driver
    def run(self, text: str, headers: Mapping[str, Any] | None, utf8: bytes | None = None) -> None:
        self.http_headers(headers)
        root = _parse(text, utf8)
        if root is None:
            return
        lang = root.get("lang")
        lang = root.get("xml:lang") if lang is None else lang
        self.facts.html_lang = lang.strip() if lang is not None else None  # "": present but empty
        self.head = root.find("head")
        self.base_href(root)
        self.code(root)
        self.facts.microdata_types = list(dict.fromkeys(t for v in _ITEMTYPES(root) for t in v.split()))
        _separate_blocks(root)
        handlers = _HANDLERS
        for el in root.iter(_FACT_TAGS):
            handlers[el.tag](self, el)
        self.facts.tracking, self.facts.cmps = _tracking_facts(self.signatures)
        self.facts.mixed_content = list(self.mixed)
        self.main_text(root)
        _cap_lists(self.facts)

    def http_headers(self, headers: Mapping[str, Any] | None) -> None:
        """X-Robots-Tag and Link (canonical, hreflang); Link URLs resolve against the page URL."""
        for value in _header_values(headers, "x-robots-tag"):
            _merge_directives(self.facts.x_robots_tag, parse_robots_directives(value))
        for value in _header_values(headers, "link"):
            for link in parse_link_header(value):
                rel = link["rel"].split()
                raw = link["url_raw"]
                url = urls.resolve(self.url, raw, self.strip_query)
                if "canonical" in rel:
                    self.facts.canonicals.append({"raw": raw, "url": url, "source": "header", "in_head": None})
                    self.add_ref(LINK_CANONICAL, url, raw, extra={"source": "header"})
                if "alternate" in rel and link["hreflang"]:
                    self.hreflang(link["hreflang"], raw, url, "header", None)

    def add_ref(self, kind: str, url: str | None, raw: str | None, **fields: Any) -> None:
        if self.room():
            self.facts.refs.append(Ref(kind=kind, url=url, raw=raw, **fields))

    def base_href(self, root: etree._Element) -> None:
        """The first <base href> anywhere rules every relative URL of the document (HTML spec)."""
        raw = next((b.get("href") for b in root.iter("base") if b.get("href") is not None), None)
        if raw is None:
            return
        self.facts.base_href = raw.strip()
        resolved = urls.resolve(self.url, raw, self.strip_query)
        if urls.is_http(resolved):
            self.base = resolved  # type: ignore[assignment]
            self.origin = urls.origin_of(self.base) + "/"
            self.directory = urls.directory_of(self.base)

    def code(self, root: etree._Element) -> None:
        """Read scripts (URLs, JSON-LD, tracking snippets), then empty every code and SVG element."""
        for el in list(root.iter(_CODE_TAGS)):
            if el.tag == "script":
                self.script(el)
            el.clear(keep_tail=True)

    def script(self, el: etree._Element) -> None:
        raw = el.get("src")
        if raw is not None:
            attrs = el.attrib
            extra = {k: True for k in ("async", "defer") if k in attrs} or None
            self.resource(LINK_SCRIPT, raw, extra)
            _scan_signatures(raw, _FULL_SCAN, self.signatures)
            return
        kind = (el.get("type") or "").strip().lower()
        text = el.text or ""
        if kind.startswith("application/ld+json"):
            self.facts.jsonld.append(_jsonld(text.strip()))
        elif text:
            # Tracking snippets are small; big inline scripts (bundles, JSON state) only get the
            # Google tag-id scan, which is ~6x cheaper per byte.
            full = len(text) <= FULL_SCAN_CAP and "json" not in kind
            _scan_signatures(text, _FULL_SCAN if full else _ID_SCAN, self.signatures)

    def main_text(self, root: etree._Element) -> None:
        """Word count, content hash and simhash of the visible main text.

        Heuristic: the body's text without code, SVG and noscript; when the page has a <main>
        or an <article>, also without the nav/header/footer/aside elements that sit outside
        every main/article (page chrome: menus, banners, sidebars, footers), while a header or
        nav inside an article stays (its title, its table of contents). Words are Unicode
        ``\\w+`` tokens of the NFC-normalised text ("Télécharger" is one word, "l'été" two).
        """
        for el in self.hidden:
            if el.tag == "noscript" or (self.has_main and next(el.iterancestors("main", "article"), None) is None):
                el.clear(keep_tail=True)
        body = root.find("body")
        if body is None:
            return
        digest = _TextDigest()
        for piece in _slices(etree.tostring(body, method="text", encoding=str, with_tail=False), TEXT_SLICE):
            piece = piece.lower()
            digest.feed(piece if unicodedata.is_normalized("NFC", piece) else unicodedata.normalize("NFC", piece))
        self.facts.word_count = digest.word_count
        self.facts.content_hash = digest.content_hash()
        self.facts.simhash = digest.simhash()

    # ---- element handlers (dispatched by tag from run())
    def a(self, el: etree._Element) -> None:
        refs = self.facts.refs
        if len(refs) >= MAX_REFS:
            self.facts.refs_truncated = True
            return
        raw = el.get("href")
        rel = _tokens(el.get("rel"))
        nofollow = bool(rel) and "nofollow" in rel.split()  # ugc and sponsored stay in rel only
        if len(el):
            text = _text(el)
            images = list(el.iter("img"))
            alt = " ".join(filter(None, (_collapse(i.get("alt"), TEXT_CAP) for i in images))) if images else None
        else:
            text, alt = el.text, None
        anchor = _collapse(text, ANCHOR_CAP)
        # Positional: ~3x cheaper than keywords, and this runs ~100 times per page.
        refs.append(Ref(LINK_A, self.resolve(raw), raw, anchor, rel, nofollow, alt, _link_extra(el)))

    def img(self, el: etree._Element) -> None:
        alt_attr = el.get("alt")
        alt = None if alt_attr is None else _collapse(alt_attr, TEXT_CAP)
        extra = {k: v for k in ("width", "height", "loading") if (v := el.get(k)) is not None} or None
        raw = el.get("src")
        url = self.subresource(raw)
        if self.room():
            self.facts.refs.append(Ref(LINK_IMG, url, raw, alt or "", "", False, alt, extra))

    def link(self, el: etree._Element) -> None:
        rel = _tokens(el.get("rel")).split()
        if not rel:
            return
        raw = el.get("href")
        if "stylesheet" in rel:
            self.resource(LINK_CSS, raw)
        if "canonical" in rel:
            url = self.resolve(raw)
            in_head = el.getparent() is self.head
            self.facts.canonicals.append({"raw": raw, "url": url, "source": "link", "in_head": in_head})
            self.add_ref(LINK_CANONICAL, url, raw, extra={"source": "link"})
        hreflang = el.get("hreflang")
        if "alternate" in rel and hreflang is not None:
            self.hreflang(hreflang.strip().lower(), raw, self.resolve(raw), "link", el.getparent() is self.head)
        if "next" in rel:
            self.pagination(LINK_NEXT, raw)
        if "prev" in rel or "previous" in rel:
            self.pagination(LINK_PREV, raw)

    def hreflang(self, lang: str, raw: str | None, url: str | None, source: str, in_head: bool | None) -> None:
        entry = {"lang": lang, "raw": raw, "url": url, "source": source, "in_head": in_head}
        self.facts.hreflangs.append(entry)
        self.add_ref(LINK_HREFLANG, url, raw, anchor=lang, extra={"source": source})

    def pagination(self, kind: str, raw: str | None) -> None:
        url = self.resolve(raw)
        if kind == LINK_NEXT and self.facts.rel_next is None:
            self.facts.rel_next = url
        elif kind == LINK_PREV and self.facts.rel_prev is None:
            self.facts.rel_prev = url
        self.add_ref(kind, url, raw)

    def meta(self, el: etree._Element) -> None:
        content = el.get("content") or ""
        name = el.get("name")
        if name:
            self.named_meta(name.strip().lower(), content)
        prop = (el.get("property") or "").strip().lower()
        if prop.startswith(("og:", "twitter:")):
            self.named_meta(prop, content)
        equiv = el.get("http-equiv")
        if equiv:
            self.http_equiv(equiv.strip().lower(), content)
        charset = el.get("charset")
        if charset is not None and self.facts.charset_meta is None:
            self.facts.charset_meta = charset.strip()

    def named_meta(self, name: str, content: str) -> None:
        facts = self.facts
        if name == "description":
            facts.meta_descriptions.append(_collapse(content, TEXT_CAP))
        elif name == "viewport":
            facts.viewport = facts.viewport if facts.viewport is not None else content.strip()
        elif name.startswith(("og:", "twitter:")):
            target = facts.opengraph if name.startswith("og:") else facts.twitter
            if name not in target and len(target) < MAX_ITEMS:
                target[name] = _collapse(content, TEXT_CAP)
        elif _ROBOTS_META_RE.fullmatch(name):
            directives = parse_robots_directives(content)
            if "robots" in directives and name != "robots":
                directives[name] = directives.pop("robots")
            _merge_directives(facts.meta_robots, directives)

    def http_equiv(self, equiv: str, content: str) -> None:
        if equiv == "refresh" and self.facts.meta_refresh is None:
            delay, target = _parse_refresh(content)
            url = self.resolve(target)
            self.facts.meta_refresh = {"delay": delay, "raw": content, "url": url}
            if target is not None:
                self.add_ref(LINK_REFRESH, url, target)
        elif equiv == "content-type" and self.facts.charset_meta is None:
            match = _HEADER_CHARSET_RE.search(content)
            self.facts.charset_meta = match.group(1) if match else None

    def title(self, el: etree._Element) -> None:
        self.facts.titles.append(_collapse(_text(el), TITLE_CAP))

    def heading(self, el: etree._Element) -> None:
        self.facts.headings.append((int(el.tag[1]), _collapse(_text_with_alts(el), TEXT_CAP)))

    def form(self, el: etree._Element) -> None:
        raw = el.get("action")
        # No (or an empty) action submits to the document's own URL, not to the base URL.
        url = self.resolve(raw) if raw and raw.strip() else urls.resolve(self.url, self.url, self.strip_query)
        method = (el.get("method") or "").strip().lower() or "get"
        self.facts.forms.append({"raw": raw, "url": url, "method": method})
        self.add_ref(LINK_FORM, url, raw, extra={"method": method})

    def iframe(self, el: etree._Element) -> None:
        self.facts.iframes += 1
        raw = el.get("src")
        if raw is not None:
            self.resource(LINK_IFRAME, raw)

    def media(self, el: etree._Element) -> None:
        """<source>, <video>, <audio>: only their mixed-content status is a fact."""
        self.subresource(el.get("src"))

    def landmark(self, el: etree._Element) -> None:
        self.has_main = True

    def hide(self, el: etree._Element) -> None:
        self.hidden.append(el)


_HANDLERS = {
    "a": _Extractor.a,
    "img": _Extractor.img,
    "link": _Extractor.link,
    "meta": _Extractor.meta,
    "title": _Extractor.title,
    **dict.fromkeys(("h1", "h2", "h3", "h4", "h5", "h6"), _Extractor.heading),
    "form": _Extractor.form,
    "iframe": _Extractor.iframe,
    **dict.fromkeys(("source", "video", "audio"), _Extractor.media),
    **dict.fromkeys(("main", "article"), _Extractor.landmark),
    **dict.fromkeys(("noscript", *_CHROME_TAGS), _Extractor.hide),
}
_FACT_TAGS = tuple(_HANDLERS)  # the only elements the facts pass looks at


def _link_extra(el: etree._Element) -> dict[str, Any] | None:
    """aria-label, title and onclick of a link, only those present (most links have none)."""
    names = el.keys()  # one call instead of three get()s
    extra: dict[str, Any] = {}
    if "aria-label" in names:
        extra["aria_label"] = _collapse(el.get("aria-label"), TEXT_CAP)
    if "title" in names:
        extra["title"] = _collapse(el.get("title"), TEXT_CAP)
    if "onclick" in names:
        extra["onclick"] = True
    return extra or None


def _cap_lists(facts: PageFacts) -> None:
    """Keep MAX_ITEMS entries per list fact: a hostile page must not make a huge facts row."""
    for name in ("titles", "meta_descriptions", "canonicals", "hreflangs", "headings", "jsonld",
                 "microdata_types", "forms", "tracking", "mixed_content"):  # fmt: skip
        values = getattr(facts, name)
        if len(values) > MAX_ITEMS:
            del values[MAX_ITEMS:]


def extract(
    body: bytes,
    url: str,
    *,
    content_type: str | None = None,
    headers: Mapping[str, str | Sequence[str]] | None = None,
    strip_query: tuple[str, ...] = (),
) -> PageFacts:
    """Parse one HTML page once → its facts and outgoing references.

    ``url`` is the page's final (normalised) URL: relative URLs resolve against it, or against
    ``<base href>`` when present; Link-header URLs against ``url`` (RFC 8288). ``headers`` may
    hold ``Link`` and ``X-Robots-Tag`` (any case; a value may be a list of repeated headers).
    Never raises: arbitrary bytes give whatever facts could be learned, at worst an empty
    ``PageFacts`` carrying the decoding facts.
    """
    text, encoding, source, errors = decode_html(body, content_type)
    facts = PageFacts(encoding=encoding, encoding_source=source, decode_errors=errors)
    # Valid UTF-8 (no BOM to skip): the parser reads the body itself, as ``text`` would encode.
    utf8 = body if encoding == "utf-8" and source != "bom" and not errors else None
    try:
        _Extractor(facts, url, strip_query).run(text, headers, utf8)
    except Exception:  # one odd page must not stop a crawl; the warning makes the bug visible
        LOGGER.warning("extraction failed on %s; keeping the facts found so far", url, exc_info=True)
    return facts
