"""Sitemap rules: whether sitemaps exist, are valid, and list exactly the indexable pages.

They read what the crawler stored: the ``sitemaps`` table (one row per sitemap file read; a
``/sitemap.xml`` probe answering 404/410 is not stored), the ``in_sitemap`` flag of each URL and
the sitemap entries. Nothing is reported when the crawl did not read sitemaps (``--no-sitemaps``
or stopped before), since absence of evidence would then read as evidence of absence.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from emaudit.api import Finding, Options, SiteView, rule

from ._common import capped, is_indexable

if TYPE_CHECKING:
    from emaudit.store import Target, UrlRecord

# sitemaps.org protocol limits for one sitemap file.
MAX_URLS = 50_000
MAX_BYTES = 50 * 1024 * 1024  # 52,428,800 bytes, uncompressed


def sitemaps_read(site: SiteView) -> bool:
    """Whether the crawl finished reading sitemaps (robots.txt ``Sitemap:`` lines and /sitemap.xml)."""
    return site.store.get_meta("sitemaps_done") == "1"


def declared_sitemaps(site: SiteView) -> list[str]:
    """``Sitemap:`` URLs of every robots.txt the crawl fetched."""
    from emaudit.robots import RobotsTxt  # only when the rule runs: `emaudit rules` stays light

    declared: list[str] = []
    for origin in site.store.iter_origins():
        if origin["body"] and origin["status"] is not None and 200 <= origin["status"] < 300:
            declared.extend(RobotsTxt.parse(origin["body"], url=origin["robots_url"]).sitemaps)
    return list(dict.fromkeys(declared))


@rule(
    id="sitemap.missing",
    category="indexability",
    severity="warning",
    scope="site",
    title="No sitemap",
    applies_to="site",
)
def missing(site: SiteView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Whether the crawl found any sitemap: none declared in robots.txt (or none of those could be
    fetched) and nothing at `/sitemap.xml`. Reported once, on the start URL.

    ## Why it matters
    A sitemap tells search engines which URLs matter and when they changed; it speeds up the
    discovery of new and deep pages, especially on large or poorly linked sites.

    ## Example
    ```text
    GET /sitemap.xml -> 404, robots.txt without Sitemap: line          (bad)
    robots.txt: Sitemap: https://example.com/sitemap.xml  -> 200 urlset (good)
    ```

    ## How to fix
    Generate an XML sitemap of the indexable URLs (most CMSs have a setting or plugin), publish it,
    declare it in robots.txt with a `Sitemap:` line and submit it in Search Console.

    ## Options
    None.

    ## References
    - Google Search Central, "Build and submit a sitemap":
      https://developers.google.com/search/docs/crawling-indexing/sitemaps/build-sitemap
    - sitemaps.org protocol: https://www.sitemaps.org/protocol.html
    """
    if not sitemaps_read(site) or next(iter(site.store.iter_sitemaps()), None) is not None:
        return
    declared = declared_sitemaps(site)
    if declared:
        message = f"No sitemap found: the {len(declared)} sitemap(s) declared in robots.txt could not be fetched"
    else:
        message = "No sitemap found: none declared in robots.txt and /sitemap.xml is missing"
    yield site.finding(site.start_url, message, declared=capped(declared))


def sitemap_problems(row: dict[str, Any]) -> list[str]:
    """Why one stored sitemap file is invalid (empty: it is valid)."""
    reasons: list[str] = []
    if row["kind"] not in ("urlset", "sitemapindex"):
        reasons.append(row["error"] or "not a sitemap")
    if row["url_count"] > MAX_URLS:
        reasons.append(f"lists more than {MAX_URLS:,} URLs ({row['url_count']:,} read)")
    too_large = any(p.get("kind") == "sitemap.too_large" for p in row["problems"])
    if row["bytes"] > MAX_BYTES or too_large:
        reasons.append(f"is over {MAX_BYTES:,} bytes (50 MB) uncompressed")
    return reasons


@rule(
    id="sitemap.invalid",
    category="indexability",
    severity="error",
    scope="site",
    title="Invalid sitemap",
    applies_to="site",
)
def invalid(site: SiteView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Sitemap files that could not be fetched (error status, no answer), do not parse as XML or
    text, have a root other than `<urlset>`/`<sitemapindex>`, or exceed the protocol's limits of
    50,000 URLs or 50 MB uncompressed. Reported on each sitemap URL.

    ## Why it matters
    Search engines reject an invalid sitemap as a whole (or stop at its limits): none of the URLs
    it was meant to announce get its help.

    ## Example
    ```xml
    <urlset><url><loc>https://example.com/</loc></url>          <!-- bad: not well-formed -->
    <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>https://example.com/</loc></url>
    </urlset>                                                    <!-- good -->
    ```

    ## How to fix
    Fix the generator (escape `&` as `&amp;`, close every element, keep the namespace), serve the
    file with a 200, and split sitemaps over 50,000 URLs or 50 MB with a sitemap index.

    ## Options
    None.

    ## References
    - sitemaps.org protocol: https://www.sitemaps.org/protocol.html
    - Google Search Central, "Build and submit a sitemap" (size limits):
      https://developers.google.com/search/docs/crawling-indexing/sitemaps/build-sitemap
    """
    for row in site.store.iter_sitemaps():
        reasons = sitemap_problems(row)
        if reasons:
            yield site.finding(
                row["url"], "Sitemap " + "; ".join(reasons), status=row["status"], error=row["error"],
                url_count=row["url_count"], bytes=row["bytes"], parent=row["parent"], problems=capped(row["problems"]),
            )


def non_indexable_reason(rec: UrlRecord, state: Target) -> tuple[str, str] | None:
    """(reason key, description) when a fetched sitemap URL is not indexable; None when it is, or unknown."""
    if rec.state == "blocked":
        return "blocked", "is disallowed by robots.txt"
    if rec.state != "done":
        return None  # not fetched (limits, exclusions): nothing known
    status = rec.status
    if status is None:
        return "no_response", f"gives no response ({rec.error_kind or 'error'})"
    if 300 <= status < 400:
        return "redirect", f"redirects ({status})"
    if status >= 400:
        return "error", f"answers {status}"
    if status != 200:
        return "status", f"answers {status}"
    if not state.has_page:
        return None  # a non-HTML document (PDF, image …) may be listed
    if state.noindex:
        return "noindex", "is noindex"
    if state.canonical_url and state.canonical_url != rec.url:
        return "canonicalised", f"is canonicalised to {state.canonical_url}"
    if not state.indexable:
        return "not_indexable", "is not indexable (blocked by robots.txt for search engines)"
    return None


@rule(
    id="sitemap.non_indexable",
    category="indexability",
    severity="warning",
    scope="site",
    title="Non-indexable URL in sitemap",
    applies_to="url",
)
def non_indexable(site: SiteView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Internal URLs listed in a sitemap that are not indexable: they redirect, answer an error or
    nothing, are noindex, canonicalised to another URL, or disallowed by robots.txt. Non-HTML
    documents answering 200 (PDFs …) are not reported.

    ## Why it matters
    A sitemap should list only canonical, indexable URLs. Others waste crawl budget and send
    search engines contradictory signals ("index this" in the sitemap, "don't" on the page), which
    lowers their trust in the whole sitemap.

    ## Example
    ```xml
    <url><loc>https://example.com/old-page</loc></url>   <!-- bad: answers 301 -->
    <url><loc>https://example.com/new-page</loc></url>   <!-- good: 200, indexable -->
    ```

    ## How to fix
    Generate the sitemap from indexable pages only: list redirect targets instead of redirecting
    URLs, and drop error, noindex, canonicalised and disallowed URLs.

    ## Options
    None.

    ## References
    - Google Search Central, "Build and submit a sitemap" (list canonical URLs):
      https://developers.google.com/search/docs/crawling-indexing/sitemaps/build-sitemap
    """
    for rec, state in site.store.iter_url_states(internal=True, in_sitemap=True):
        found = non_indexable_reason(rec, state)
        if found is not None:
            reason, description = found
            sitemaps = capped(sm for sm, _ in site.store.sitemap_entries(rec.id))
            yield site.finding(rec.url, f"Listed in a sitemap but {description}", reason=reason, status=rec.status,
                               sitemaps=sitemaps)


@rule(
    id="sitemap.not_listed",
    category="indexability",
    severity="notice",
    scope="site",
    title="Indexable page missing from sitemaps",
    applies_to="indexable",
)
def not_listed(site: SiteView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Indexable pages listed in no sitemap, when the site has at least one readable sitemap of URLs.

    ## Why it matters
    A sitemap that misses indexable pages is stale or partial: new and deep pages among them are
    discovered later, and Search Console coverage reports, which are based on sitemaps, miss them.

    ## Example
    ```text
    /blog/new-post is linked from the blog, indexable, but in no sitemap   (bad)
    the sitemap is generated from the CMS and lists /blog/new-post          (good)
    ```

    ## How to fix
    Generate the sitemap automatically from the CMS or database so every indexable page is
    listed, or add the missing URLs.

    ## Options
    None.

    ## References
    - Google Search Central, "Build and submit a sitemap":
      https://developers.google.com/search/docs/crawling-indexing/sitemaps/build-sitemap
    """
    if not any(row["kind"] == "urlset" for row in site.store.iter_sitemaps()):
        return
    for rec, state in site.store.iter_url_states(internal=True, in_sitemap=False):
        if is_indexable(rec, state):
            yield site.finding(rec.url, "Indexable page is in no sitemap", depth=rec.depth, inlinks=rec.inlinks)


RULES = (missing, invalid, non_indexable, not_listed)
