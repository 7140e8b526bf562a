"""Canonical rules: `<link rel="canonical">` tags and `Link: <…>; rel="canonical"` headers.

The page's effective canonical is the first one declared (what the crawler stores); the rules
about its target read what the crawl learnt when it fetched that target.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from emaudit.api import Finding, Options, PageView, rule

from ._common import status_of

if TYPE_CHECKING:
    from emaudit.store import Target


def _declared(page: PageView) -> list[dict[str, object]]:
    return [c for c in page.facts.canonicals if (c.get("url") or c.get("raw"))]


def _foreign_target(page: PageView) -> Target | None:
    """The crawl's record of the canonical target when it is another URL (None: self or unknown)."""
    url = page.canonical_url
    if not url or url == page.url:
        return None
    return page.target(url)


@rule(
    id="canonical.missing",
    category="indexability",
    severity="notice",
    scope="page",
    title="Canonical missing",
    applies_to="indexable",
)
def missing(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Indexable pages that declare no canonical URL (neither a `<link rel="canonical">` nor a
    `Link` header).

    ## Why it matters
    The same content is often reachable under several URLs (tracking parameters, sort orders,
    http/https, trailing slashes). A self-referencing canonical tells search engines which one to
    index and where to consolidate signals; without it, they guess.

    ## Example
    ```html
    <head><title>Boots</title></head>                                             <!-- bad -->
    <head><link rel="canonical" href="https://example.com/boots"></head>           <!-- good -->
    ```

    ## How to fix
    Add an absolute, self-referencing canonical to every indexable page's template.

    ## Options
    None.

    ## References
    - Google Search Central, "How to specify a canonical URL with rel=canonical and other methods":
      https://developers.google.com/search/docs/crawling-indexing/consolidate-duplicate-urls
    """
    if not _declared(page):
        yield page.finding("No canonical URL declared")


@rule(
    id="canonical.multiple",
    category="indexability",
    severity="warning",
    scope="page",
    title="Conflicting canonicals",
    applies_to="html",
)
def multiple(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    HTML pages declaring several canonicals that point to different URLs (several tags, or a tag
    and a `Link` header that disagree). Repeating the same URL is harmless and not reported.

    ## Why it matters
    With conflicting canonicals Google ignores all of them and picks a canonical itself.

    ## Example
    ```html
    <link rel="canonical" href="https://example.com/a">
    <link rel="canonical" href="https://example.com/b">      <!-- bad: two targets -->
    <link rel="canonical" href="https://example.com/a">      <!-- good: exactly one -->
    ```

    ## How to fix
    Keep a single canonical: find the second source (a plugin, a theme, the server adding a
    `Link` header) and remove it.

    ## Options
    None.

    ## References
    - Google Search Central, "How to specify a canonical URL" (avoid multiple canonicals):
      https://developers.google.com/search/docs/crawling-indexing/consolidate-duplicate-urls
    """
    declared = _declared(page)
    targets = list(dict.fromkeys(str(c.get("url") or c.get("raw")) for c in declared))
    if len(targets) > 1:
        sources = sorted({str(c.get("source") or "link") for c in declared})
        yield page.finding(f"{len(targets)} different canonical URLs declared ({', '.join(sources)})",
                           observed=len(targets), canonicals=targets, sources=sources)


@rule(
    id="canonical.relative",
    category="indexability",
    severity="notice",
    scope="page",
    title="Relative canonical URL",
    applies_to="html",
)
def relative(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Canonicals whose `href` is not an absolute URL with a scheme (`/page`, `page`, `//host/page`).

    ## Why it matters
    Relative canonicals are resolved against whatever URL the page was fetched as, so copies of
    the page on other hosts or paths (staging, http, scraped mirrors) canonicalise to themselves.

    ## Example
    ```html
    <link rel="canonical" href="/boots">                        <!-- bad -->
    <link rel="canonical" href="https://example.com/boots">     <!-- good -->
    ```

    ## How to fix
    Write the canonical as an absolute URL, scheme and host included.

    ## Options
    None.

    ## References
    - Google Search Central, "How to specify a canonical URL" (use absolute paths):
      https://developers.google.com/search/docs/crawling-indexing/consolidate-duplicate-urls
    """
    raws = [str(c.get("raw")).strip() for c in _declared(page) if c.get("raw") is not None]
    relatives = [raw for raw in raws if not raw.lower().startswith(("http://", "https://"))]
    if relatives:
        yield page.finding(f"Canonical href is not absolute: {relatives[0]!r}", observed=relatives[0],
                           hrefs=relatives)


@rule(
    id="canonical.canonicalised",
    category="indexability",
    severity="notice",
    scope="page",
    title="Page canonicalised to another URL",
    applies_to="html",
)
def canonicalised(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    HTML pages whose canonical points to another URL.

    ## Why it matters
    The page asks not to be indexed itself: search engines index the canonical target instead.
    Right for duplicates (parameters, print versions), wrong on unique content.

    ## Example
    ```html
    <!-- on https://example.com/boots?sort=price -->
    <link rel="canonical" href="https://example.com/boots">    <!-- good: an intended duplicate -->
    <!-- on https://example.com/boots -->
    <link rel="canonical" href="https://example.com/">         <!-- bad: unique page sent away -->
    ```

    ## How to fix
    Check the page is really a duplicate of its canonical target; otherwise make the canonical
    self-referencing. Link internally to the canonical URL, not to its duplicates.

    ## Options
    None.

    ## References
    - Google Search Central, "What is URL canonicalization":
      https://developers.google.com/search/docs/crawling-indexing/canonicalization
    """
    url = page.canonical_url
    if url and url != page.url:
        yield page.finding(f"Canonicalised to {url}", target=url)


@rule(
    id="canonical.to_non_200",
    category="indexability",
    severity="error",
    scope="page",
    title="Canonical target does not answer 200",
    applies_to="html",
)
def to_non_200(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Canonical targets (other than the page itself) that answered a redirect, a 4xx or 5xx, nothing
    at all, or were disallowed by robots.txt. Targets the crawl did not fetch (out of scope,
    limits) are not judged.

    ## Why it matters
    A canonical must name the URL to index. A target that redirects, fails or cannot be crawled is
    an invalid canonical: search engines ignore it and may index the wrong URL, or none.

    ## Example
    ```html
    <link rel="canonical" href="https://example.com/old-boots">   <!-- bad: answers 301 -->
    <link rel="canonical" href="https://example.com/boots">       <!-- good: answers 200 -->
    ```

    ## How to fix
    Point the canonical at the final, crawlable, 200 URL of the content.

    ## Options
    None.

    ## References
    - Google Search Central, "How to specify a canonical URL":
      https://developers.google.com/search/docs/crawling-indexing/consolidate-duplicate-urls
    """
    target = _foreign_target(page)
    if target is None or target.state not in ("done", "blocked") or target.status == 200:
        return
    status = status_of(target)
    yield page.finding(f"Canonical {target.url} answers {status}", target=target.url, status=status)


@rule(
    id="canonical.to_noindex",
    category="indexability",
    severity="error",
    scope="page",
    title="Canonical target is noindex",
    applies_to="html",
)
def to_noindex(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Canonicals pointing to another page that is itself noindex.

    ## Why it matters
    Contradictory signals: "index that URL instead of me" while that URL says "do not index me".
    Search engines may drop both from results.

    ## Example
    ```html
    <!-- /boots?color=red -->  <link rel="canonical" href="https://example.com/boots">
    <!-- /boots -->            <meta name="robots" content="noindex">               (bad)
    <!-- /boots -->            <meta name="robots" content="index, follow">         (good)
    ```

    ## How to fix
    Make the canonical target indexable, or point the canonical at the indexable version.

    ## Options
    None.

    ## References
    - Google Search Central, "Consolidate duplicate URLs" (do not mix noindex and rel=canonical):
      https://developers.google.com/search/docs/crawling-indexing/consolidate-duplicate-urls
    """
    target = _foreign_target(page)
    if target is not None and target.has_page and target.noindex:
        yield page.finding(f"Canonical {target.url} is noindex", target=target.url)


@rule(
    id="canonical.chain",
    category="indexability",
    severity="warning",
    scope="page",
    title="Canonical chain",
    applies_to="html",
)
def chain(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Canonicals pointing to a page whose own canonical points elsewhere again (A → B → C).

    ## Why it matters
    Search engines may not follow canonical chains; the signal can stop at B, or be dropped.

    ## Example
    ```html
    <!-- /a -->  <link rel="canonical" href="https://example.com/b">
    <!-- /b -->  <link rel="canonical" href="https://example.com/c">    (bad: /a should point at /c)
    <!-- /a -->  <link rel="canonical" href="https://example.com/c">    (good)
    ```

    ## How to fix
    Point every canonical straight at the final canonical URL.

    ## Options
    None.

    ## References
    - Google Search Central, "How to specify a canonical URL":
      https://developers.google.com/search/docs/crawling-indexing/consolidate-duplicate-urls
    """
    target = _foreign_target(page)
    if target is None or not target.has_page:
        return
    onward = target.canonical_url
    if onward and onward != target.url:
        yield page.finding(f"Canonical {target.url} is canonicalised again to {onward}", target=target.url,
                           next=onward)


RULES = (missing, multiple, relative, canonicalised, to_non_200, to_noindex, chain)
