"""Small helpers shared by the built-in rule modules (not a rule group: it declares no rules).

Kept here so every module states facts the same way: the same text normalisation, the same cap on
the URLs listed in a finding's details, the same wording of a link target's status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from emaudit.api import Finding, PageView, SiteView
    from emaudit.models import PageFacts, Ref
    from emaudit.store import Target, UrlRecord

# Site-wide findings list at most this many related URLs; the total goes next to them so a report
# can say "and 1,234 more" without a finding weighing megabytes on a large site.
RELATED_CAP = 20
SNIPPET_CHARS = 160  # a snippet is a reminder of the element, not a copy of the page


def squash(text: str | None) -> str:
    """Whitespace-normalised text (what a search engine displays), ``""`` for None."""
    return " ".join((text or "").split())


def text_key(text: str | None) -> str:
    """Comparison key: whitespace-normalised, case-insensitive (same as the store's grouping key)."""
    return squash(text).casefold()


def snippet(text: str | None) -> str:
    """A short excerpt for ``details["snippet"]``."""
    text = squash(text)
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"


def capped(items: Iterable[Any], cap: int = RELATED_CAP) -> list[Any]:
    """The first ``cap`` items, as a list (details stay small on large sites)."""
    out = []
    for item in items:
        if len(out) == cap:
            break
        out.append(item)
    return out


def status_of(target: Target) -> int | str:
    """A link target's answer as shown in details: the HTTP status, or why there is none."""
    if target.state == "blocked":
        return "blocked by robots.txt"
    if target.status is not None:
        return target.status
    return target.error_kind or "no response"


def unique_links(page: PageView, kinds: Sequence[str] = ("a",)) -> Iterator[tuple[Ref, Target]]:
    """Refs of ``kinds`` with a known target, once per target URL (a repeated link is one link).

    Computed once per page and kind set (several links.* rules walk the same list).
    """
    return iter(page.memo(("unique_links", tuple(kinds)), lambda: _unique_links(page, tuple(kinds))))


def _unique_links(page: PageView, kinds: tuple[str, ...]) -> list[tuple[Ref, Target]]:
    seen: set[str] = set()
    out: list[tuple[Ref, Target]] = []
    for ref in page.refs:
        if ref.kind not in kinds or ref.url is None or ref.url in seen:
            continue
        seen.add(ref.url)
        target = page.target(ref.url)
        if target is not None:
            out.append((ref, target))
    return out


def origin(url: str) -> str:
    """``scheme://host[:port]`` of an absolute URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def is_internal(page: PageView, url: str | None) -> bool:
    """Whether a ref's URL is in crawl scope: the crawl's verdict, else same origin as the page."""
    if not url or not url.startswith(("http://", "https://")):
        return False
    target = page.target(url)
    if target is not None:
        return target.internal
    return origin(url) == origin(page.url)


def is_html_page(rec: UrlRecord, state: Target) -> bool:
    """The catalogue's *HTML page* (for site rules reading URL states): internal, 200, HTML, parsed."""
    return rec.internal and rec.status == 200 and rec.is_html and state.has_page


def is_indexable(rec: UrlRecord, state: Target) -> bool:
    """The catalogue's *indexable*: an HTML page the crawl found indexable (robots, noindex, canonical)."""
    return is_html_page(rec, state) and state.indexable


def group_findings(site: SiteView, ids: Sequence[int], message: str, **details: Any) -> Iterator[Finding]:
    """One finding per member of a group of pages, each listing (up to the cap) the others."""
    records = site.store.get_many(ids)
    urls = sorted(rec.url for rec in records.values())
    for url in urls:
        others = capped(u for u in urls if u != url)
        yield site.finding(url, message, others=others, count=len(urls), **details)


def page_value(site: SiteView, page_id: int, get: Callable[[PageFacts], str | None]) -> str:
    """One fact of one stored page (e.g. the title a duplicate group shares), normalised."""
    facts = site.store.page_facts(page_id)
    return squash(get(facts)) if facts is not None else ""
