"""Index rules: robots directives, click depth and discoverability of indexable pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from emaudit.api import Finding, Option, Options, PageView, SiteView, rule

from ._common import capped, is_html_page, is_indexable

if TYPE_CHECKING:
    from emaudit.models import PageFacts

MAX_DEPTH = 3
MAX_NOINDEX_SHARE = 0.5
# Agents whose directives bind Google (the generic ones and Googlebot's own), as PageFacts does.
_AGENTS = ("robots", "*", "googlebot")


def directive_sources(facts: PageFacts, directive: str) -> list[str]:
    """Where a page says ``directive`` (or ``none``): ``meta robots``, ``X-Robots-Tag googlebot`` …"""
    out: dict[str, None] = {}  # ordered, without repeats ("robots" and "*" headers read the same)
    for label, source in (("meta", facts.meta_robots), ("X-Robots-Tag", facts.x_robots_tag)):
        for agent in _AGENTS:
            values = {d.split(":", 1)[0].strip() for d in source.get(agent, ())}
            if directive in values or "none" in values:
                out[f"{label} {agent}" if label == "meta" or agent == "googlebot" else label] = None
    return list(out)


@rule(
    id="index.noindex",
    category="indexability",
    severity="notice",
    scope="page",
    title="Page is noindex",
    applies_to="html",
)
def noindex(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    HTML pages that ask search engines not to index them, through `<meta name="robots">`,
    `<meta name="googlebot">` or the `X-Robots-Tag` header (`noindex` or `none`).

    ## Why it matters
    A noindex page never appears in search results. Right for thank-you pages or internal search,
    costly when it lands on a template by mistake.

    ## Example
    ```html
    <meta name="robots" content="noindex, follow">   <!-- bad on a page meant to rank -->
    <meta name="robots" content="index, follow">     <!-- good (or no tag at all) -->
    ```

    ## How to fix
    Check the list is intended; remove the directive (in the template or the server's header
    configuration) from pages that should rank.

    ## Options
    None.

    ## References
    - Google Search Central, "Block Search indexing with noindex":
      https://developers.google.com/search/docs/crawling-indexing/block-indexing
    """
    if page.facts.noindex:
        where = directive_sources(page.facts, "noindex")
        yield page.finding(f"Page is noindex ({', '.join(where)})", where=where)


@rule(
    id="index.nofollow_page",
    category="indexability",
    severity="notice",
    scope="page",
    title="Page-level nofollow",
    applies_to="html",
)
def nofollow_page(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    HTML pages with a page-level `nofollow` (or `none`) in `<meta name="robots">`,
    `<meta name="googlebot">` or the `X-Robots-Tag` header.

    ## Why it matters
    Search engines then ignore every link of the page: pages linked only from it may not be
    discovered, and none of its links pass signals.

    ## Example
    ```html
    <meta name="robots" content="nofollow">   <!-- bad on a page whose links matter -->
    <meta name="robots" content="follow">     <!-- good (or no tag at all) -->
    ```

    ## How to fix
    Remove the page-level `nofollow`; qualify individual untrusted links with
    `rel="nofollow"`, `rel="ugc"` or `rel="sponsored"` instead.

    ## Options
    None.

    ## References
    - Google Search Central, "Robots meta tag, data-nosnippet, and X-Robots-Tag specifications":
      https://developers.google.com/search/docs/crawling-indexing/robots-meta-tag
    """
    if page.facts.nofollow:
        where = directive_sources(page.facts, "nofollow")
        yield page.finding(f"Page-level nofollow ({', '.join(where)})", where=where)


@rule(
    id="index.noindex_sitewide",
    category="indexability",
    severity="error",
    scope="site",
    title="Most pages are noindex",
    applies_to="site",
    options=(
        Option("max_share", MAX_NOINDEX_SHARE, "Share of HTML pages being noindex from which the site is flagged",
               source="issue #3 §6 (half the site noindex is almost always a template or staging setting left on)"),
    ),
)
def noindex_sitewide(site: SiteView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Whether the share of HTML pages that are noindex reaches `max_share` (50 %). Reported once,
    on the start URL.

    ## Why it matters
    A site-wide noindex is the classic leftover of a staging environment or a CMS "discourage
    search engines" switch: the whole site disappears from search results.

    ## Example
    ```html
    <meta name="robots" content="noindex">   <!-- bad: in the shared template, on every page -->
    <meta name="robots" content="noindex">   <!-- good: only on the few pages that must stay out -->
    ```

    ## How to fix
    Find the common source (template, CMS setting, server header rule) and remove the directive.

    ## Options
    - `max_share` (default 0.5): share of HTML pages (0–1) being noindex that triggers the rule.

    ## References
    - Google Search Central, "Block Search indexing with noindex":
      https://developers.google.com/search/docs/crawling-indexing/block-indexing
    """
    total = 0
    examples: list[str] = []
    count = 0
    for rec, state in site.store.iter_url_states(internal=True):
        if not is_html_page(rec, state):
            continue
        total += 1
        if state.noindex:
            count += 1
            if len(examples) < 20:
                examples.append(rec.url)
    if total and count / total >= opts.max_share:
        share = count / total
        yield site.finding(
            site.start_url,
            f"{share:.0%} of HTML pages are noindex ({count} of {total}; max {opts.max_share:.0%})",
            observed=round(share, 4), threshold=opts.max_share, noindex=count, html_pages=total, examples=examples,
        )


@rule(
    id="index.deep_page",
    category="indexability",
    severity="notice",
    scope="page",
    title="Page is deep in the site",
    applies_to="indexable",
    options=(
        Option("max_depth", MAX_DEPTH, "Largest click depth from the start URL before a page counts as deep",
               source="the three-click guideline of site architecture; issue #3 §6"),
    ),
)
def deep_page(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Indexable pages more than `max_depth` clicks (links followed) away from the start URL. Pages
    reached only through a sitemap have no click depth and are `index.orphan` candidates instead.

    ## Why it matters
    Pages far from the home page get fewer internal link signals and are crawled less often;
    visitors rarely reach them.

    ## Example
    ```text
    / -> /shop -> /shop/men -> /shop/men/shoes -> /shop/men/shoes/boot-42   (bad: depth 4)
    / -> /shop/men/shoes -> /shop/men/shoes/boot-42                        (good: depth 2)
    ```

    ## How to fix
    Link important deep pages from shallower ones: navigation, hub or category pages,
    breadcrumbs, related-content blocks; paginate with more links per page.

    ## Options
    - `max_depth` (default 3): pages deeper than this are reported.

    ## References
    - Google Search Central, "SEO Starter Guide" (site hierarchy):
      https://developers.google.com/search/docs/fundamentals/seo-starter-guide
    """
    depth = page.depth
    if depth is not None and depth > opts.max_depth:
        yield page.finding(f"Page is {depth} clicks from the start URL (max {opts.max_depth})",
                           observed=depth, threshold=opts.max_depth)


@rule(
    id="index.orphan",
    category="indexability",
    severity="warning",
    scope="site",
    title="Orphan page (in a sitemap, not linked)",
    applies_to="indexable",
)
def orphan(site: SiteView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Indexable pages listed in a sitemap that no crawled page links to with an `<a href>` (the
    start URL, the crawl's entry point, is never an orphan).

    ## Why it matters
    Without internal links a page gets no link signals and visitors cannot reach it; search
    engines find it through the sitemap only and tend to treat it as unimportant.

    ## Example
    ```text
    sitemap.xml lists /offers/spring, and no page has <a href="/offers/spring">   (bad)
    /offers links to /offers/spring                                              (good)
    ```

    ## How to fix
    Link the page from a relevant page (category, hub, navigation), or, if it is obsolete, remove
    it from the sitemap and redirect or retire it.

    ## Options
    None.

    ## References
    - Google Search Central, "Link best practices":
      https://developers.google.com/search/docs/crawling-indexing/links-crawlable
    """
    for rec, state in site.store.iter_url_states(internal=True, in_sitemap=True):
        if rec.inlinks == 0 and rec.url != site.start_url and is_indexable(rec, state):
            sitemaps = capped(sm for sm, _ in site.store.sitemap_entries(rec.id))
            yield site.finding(rec.url, "In a sitemap but no internal link points to it", observed=0,
                               sitemaps=sitemaps)


RULES = (noindex, nofollow_page, noindex_sitewide, deep_page, orphan)
