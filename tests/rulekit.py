"""Fixtures for rule tests: small sites written through the real extractor and the real Store.

A rule test describes URLs (:class:`U`) — HTML bodies, statuses, headers, redirects, robots.txt,
sitemaps — and :func:`site_from_pages` runs every HTML body through :func:`emaudit.extract.extract`,
writes the crawl with the Store's own write API (``add_urls``, ``record_fetch``, ``record_page``,
``save_sitemap`` …) into SQLite ``:memory:``, and finalises it (inlinks, redirect chains). Rules
then see exactly what they see after a real crawl, without a network.

Conventions that keep fixtures short:

- paths are relative to :data:`START` (``"/a"`` → ``https://example.com/a``);
- a URL that a page references but the fixture does not declare answers 200 (an HTML page for
  links, a binary resource for images/scripts/CSS) when internal, and is left unfetched when
  external;
- indexability is computed as the crawler computes it (noindex, canonical to another URL,
  ``disallowed=True`` for a URL fetched although robots.txt disallows it).

:func:`page_from_html` is the one-page shortcut. :class:`Fixture` is a lazy (site, URL) pair used
in each test module's ``FIXTURES`` table of bad/good examples per rule id.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from emaudit.api import RULE_ATTRIBUTE, Finding, PageView, RuleSpec, SiteView, evaluate
from emaudit.audit import unit_level
from emaudit.extract import extract
from emaudit.models import RESOURCE_KINDS
from emaudit.store import BLOCKED, DONE, EXTERNAL, FetchRecord, NewUrl, PageRow, Store
from emaudit.urls import origin_of, resolve, url_id

import emaudit.rules

START = "https://example.com/"
HTML = "text/html; charset=utf-8"
RULES_BY_ID: dict[str, Callable[..., Any]] = {getattr(f, RULE_ATTRIBUTE).id: f for f in emaudit.rules.RULES}


def spec(rule_id: str) -> RuleSpec:
    return getattr(RULES_BY_ID[rule_id], RULE_ATTRIBUTE)


def absolute(path: str, base: str = START) -> str:
    """Normalised absolute URL of a fixture path."""
    result = resolve(base, path)
    assert result is not None and result.startswith("http"), path
    return result


@dataclass
class U:
    """One URL of a fixture site and how it answered."""

    path: str
    html: str | bytes | None = None  # body of an HTML page (status 200 and an HTML type make it a page)
    status: int | None = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None  # default: HTML when ``html`` is given
    location: str | None = None  # redirect target (path or URL)
    error_kind: str | None = None  # no response: "timeout", "dns" …
    error: str | None = None
    state: str = DONE  # or "blocked", "skipped", "queued"
    kind: str = "page"  # or "resource"
    depth: int | None = 1  # click depth (None: known from a sitemap only)
    sitemaps: tuple[str, ...] = ()  # sitemap URLs listing this URL
    disallowed: bool = False  # fetched, but robots.txt disallows it: never indexable
    source_kind: str | None = None  # how the crawler found it (default: "redirect" for redirect targets)

    def resolved_type(self) -> str | None:
        if self.content_type is not None:
            return self.content_type
        return HTML if self.html is not None else None


@dataclass
class Sitemap:
    """A sitemap file as the crawler stores it (``kind``: urlset | sitemapindex | invalid)."""

    url: str
    kind: str = "urlset"
    status: int | None = 200
    error: str | None = None
    url_count: int = 0
    bytes: int = 1000
    truncated: bool = False
    problems: list[dict[str, Any]] = field(default_factory=list)
    parent: str | None = None


@dataclass
class Robots:
    """robots.txt of an origin as fetched (status None: no response)."""

    body: str | None = ""
    status: int | None = 200
    error: str | None = None
    origin: str = origin_of(START)


class FixtureSite:
    """A finalised in-memory store with views for page and site rules."""

    def __init__(self, store: Store, start_url: str) -> None:
        self.store = store
        self.start_url = start_url

    @property
    def site(self) -> SiteView:
        return SiteView(self.store, self.start_url)

    def view(self, path: str) -> PageView:
        url = absolute(path, self.start_url)
        rec = self.store.get(url)
        assert rec is not None, f"{url} is not in the fixture site"
        return PageView(rec, self.store.page(url), self.start_url, self.store.inlink_sources)

    def applies(self, rule_id: str, path: str) -> bool:
        """Whether the engine would evaluate this page rule on this URL (its ``applies_to``)."""
        view = self.view(path)
        level = unit_level(view.record, view._page)
        return level >= ("url", "page", "html", "indexable").index(spec(rule_id).applies_to)

    def run(self, rule_id: str, path: str | None = None, **options: Any) -> list[Finding]:
        """Findings of one rule: on ``path`` for a page rule (which must apply), on the site otherwise."""
        func = RULES_BY_ID[rule_id]
        if spec(rule_id).scope == "site":
            assert path is None, "site rules run on the whole site"
            return evaluate(func, self.site, **options)
        path = path or self.start_url
        assert self.applies(rule_id, path), f"{rule_id} (applies to {spec(rule_id).applies_to}) does not apply to {path}"
        return evaluate(func, self.view(path), **options)


# ---------------------------------------------------------------- building
def site_from_pages(
    urls: Sequence[U],
    *,
    start_url: str = START,
    robots: Sequence[Robots] = (),
    sitemaps: Sequence[Sitemap] = (),
    sitemaps_read: bool = True,
) -> FixtureSite:
    """Write ``urls`` (plus the URLs they reference) into a finalised in-memory store."""
    store = Store.create(":memory:")
    store.start_run(start_url, "crawl", {}, "emaudit-test/0 (+https://example.com/bot)", "0")
    declared = {absolute(u.path, start_url): u for u in urls}
    pages = {url: _page_row(url, u) for url, u in declared.items() if _is_page(u)}
    store.batch(_write, store, start_url, declared, pages, sitemaps)
    for r in robots:
        store.save_robots(r.origin, r.origin + "/robots.txt", r.status, r.error, r.body, False, None, None)
    if sitemaps_read:
        store.set_meta("sitemaps_done", "1")
    store.finalize()
    return FixtureSite(store, start_url)


def page_from_html(html: str | bytes, url: str = START, status: int = 200, headers: dict[str, str] | None = None,
                   *, others: Sequence[U] = (), **record: Any) -> PageView:
    """A PageView of one HTML page (extracted for real); ``record`` overrides crawl facts (inlinks, depth …)."""
    fixture = site_from_pages([U(url, html, status=status, headers=headers or {}, depth=0), *others], start_url=START)
    view = fixture.view(url)
    if not record:
        return view
    return PageView(dataclasses.replace(view.record, **record), view._page, fixture.start_url)


def _is_page(u: U) -> bool:
    ctype = (u.resolved_type() or "").lower()
    return u.state == DONE and u.status == 200 and u.html is not None and "html" in ctype


def _page_row(url: str, u: U) -> PageRow:
    body = u.html.encode("utf-8") if isinstance(u.html, str) else u.html
    facts = extract(body or b"", url, content_type=u.resolved_type(), headers=u.headers)
    canonical = facts.canonicals[0].get("url") if facts.canonicals else None
    if canonical is not None and not str(canonical).startswith(("http://", "https://")):
        canonical = None
    indexable = not facts.noindex and (canonical is None or canonical == url) and not u.disallowed
    refs = [(url_id(r.url) if r.url is not None else None, r) for r in facts.refs]
    return PageRow(url_id(url), facts, url_id(canonical) if canonical else None, canonical, indexable, refs)


def _write(store: Store, start_url: str, declared: dict[str, U], pages: dict[str, PageRow],
           sitemaps: Sequence[Sitemap]) -> None:
    start_origin = origin_of(start_url)
    redirect_targets = {absolute(u.location, url) for url, u in declared.items() if u.location}
    implied = _implied_urls(declared, pages, redirect_targets)
    new = [_new_url(url, u, url.startswith(start_origin + "/"), url in redirect_targets, url == start_url)
           for url, u in {**implied, **declared}.items()]
    store.add_urls(new)
    for url, u in {**implied, **declared}.items():
        if u.state == DONE and url.startswith(start_origin + "/"):
            store.record_fetch(_fetch(url, u))
            if u.location:
                store.add_link(url_id(url), url_id(absolute(u.location, url)), "redirect", u.location)
    for row in pages.values():
        store.record_page(row)
    _write_sitemaps(store, declared, sitemaps)


def _implied_urls(declared: dict[str, U], pages: dict[str, PageRow], redirect_targets: set[str]) -> dict[str, U]:
    """Referenced but undeclared URLs: 200 when internal (page or resource), unfetched when external."""
    implied: dict[str, U] = {}
    for row in pages.values():
        for _, ref in row.refs:
            if ref.url and ref.url.startswith(("http://", "https://")) and ref.url not in declared:
                kind = "resource" if ref.kind in RESOURCE_KINDS else "page"
                implied.setdefault(ref.url, U(ref.url, kind=kind, content_type=HTML if kind == "page" else "image/png"))
    for url in redirect_targets - set(declared):
        implied.setdefault(url, U(url, content_type=HTML))
    return implied


def _new_url(url: str, u: U, internal: bool, redirect_target: bool, is_start: bool) -> NewUrl:
    state = u.state if internal else EXTERNAL
    kind = u.kind if internal else "external"
    source_kind = u.source_kind or ("redirect" if redirect_target else "a")
    skip_reason = "robots" if state == BLOCKED else None
    depth = 0 if is_start else u.depth
    return NewUrl(url_id(url), url, "queued" if state == DONE else state, kind, internal, depth, None, source_kind,
                  0, skip_reason)


def _fetch(url: str, u: U) -> FetchRecord:
    location = absolute(u.location, url) if u.location else None
    headers = {k.lower(): v for k, v in u.headers.items()}
    if u.resolved_type():
        headers.setdefault("content-type", u.resolved_type())  # type: ignore[arg-type]
    return FetchRecord(
        id=url_id(url), status=u.status, error_kind=u.error_kind, error=u.error, location=u.location,
        redirect_id=url_id(location) if location else None, content_type=u.resolved_type() if u.status else None,
        bytes=len(u.html or ""), truncated=False, response_ms=10.0, http_version="HTTP/1.1", attempts=1,
        headers=headers, fetched_at=time.time(),
    )


def _write_sitemaps(store: Store, declared: dict[str, U], sitemaps: Sequence[Sitemap]) -> None:
    listed: dict[str, list[int]] = {}
    for url, u in declared.items():
        for sm in u.sitemaps:
            listed.setdefault(absolute(sm), []).append(url_id(url))
    rows = {absolute(s.url): s for s in sitemaps}
    for sm_url in listed:
        rows.setdefault(sm_url, Sitemap(sm_url))
    for sm_url, s in rows.items():
        ids = listed.get(sm_url, [])
        count = s.url_count or len(ids)
        store.save_sitemap(sm_url, s.parent, s.kind, s.status, s.error, count, s.bytes, s.truncated, s.problems)
        store.add_sitemap_entries(sm_url, ((i, None) for i in ids))
        store.mark_in_sitemap(ids)


# ---------------------------------------------------------------- bad/good tables
@dataclass(frozen=True)
class Fixture:
    """A site and where to check a rule on it (``path`` None: a site rule, or the start URL)."""

    urls: tuple[U, ...]
    path: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    robots: tuple[Robots, ...] = ()
    sitemaps: tuple[Sitemap, ...] = ()
    sitemaps_read: bool = True

    def build(self) -> FixtureSite:
        return site_from_pages(self.urls, robots=self.robots, sitemaps=self.sitemaps, sitemaps_read=self.sitemaps_read)

    def run(self, rule_id: str) -> list[Finding]:
        fixture = self.build()
        path = self.path if spec(rule_id).scope == "page" else None
        return fixture.run(rule_id, path, **self.options)


def page(html: str, *, others: Iterable[U] = (), path: str = "/", **kwargs: Any) -> Fixture:
    """A one-page fixture (plus ``others``), checked on ``path``."""
    kwargs.setdefault("depth", 0 if path == "/" else 1)
    return Fixture((U(path, html, **kwargs), *others), path)


def url(path: str, *, others: Iterable[U] = (), **kwargs: Any) -> Fixture:
    """A fixture checked on one (non-HTML or non-200) URL."""
    return Fixture((U(path, **kwargs), *others), path)


def sites(*urls: U, **kwargs: Any) -> Fixture:
    """A multi-URL fixture for site rules (or checked on ``path=`` for page rules)."""
    return Fixture(tuple(urls), **kwargs)


def doc(title: str | None = "A descriptive page title for the tests", body: str = "", head: str = "",
        lang: str | None = "en") -> str:
    """A complete HTML page with the given title (None: no element), head and body additions."""
    lang_attr = f' lang="{lang}"' if lang is not None else ""
    title_el = f"<title>{title}</title>" if title is not None else ""
    return (f"<!doctype html><html{lang_attr}><head><meta charset='utf-8'>{title_el}{head}</head>"
            f"<body>{body}</body></html>")


def bad_good_tests(table: dict[str, tuple[Fixture, Fixture]]) -> tuple[Callable[[str], None], Callable[[str], None]]:
    """The two tests every rule gets: its bad fixture yields findings, its good one none.

    A module binds them to ``test_*`` names; ``test_rules_catalogue`` checks every rule id has an
    entry in some module's ``FIXTURES`` table.
    """
    import pytest

    @pytest.mark.parametrize("rule_id", sorted(table))
    def bad(rule_id: str) -> None:
        findings = table[rule_id][0].run(rule_id)
        assert findings, f"bad fixture of {rule_id} yields no finding"
        assert {f.rule for f in findings} == {rule_id}

    @pytest.mark.parametrize("rule_id", sorted(table))
    def good(rule_id: str) -> None:
        findings = table[rule_id][1].run(rule_id)
        assert findings == [], f"good fixture of {rule_id} yields {[f.message for f in findings]}"

    return bad, good
