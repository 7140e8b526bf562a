"""Redirect rules: internal URLs that send the client elsewhere (HTTP 3xx or meta refresh).

Chains and loops are reported on the URL where they start: a URL that is only ever reached as a
hop of another redirect (no link, not in a sitemap) is part of that chain, not a new one.
"""

from __future__ import annotations

from collections.abc import Iterator

from emaudit.api import Finding, Option, Options, PageView, rule

TEMPORARY_STATUSES = frozenset({302, 303, 307})
MIN_CHAIN_HOPS = 2


def _is_redirect(page: PageView) -> bool:
    return page.status is not None and 300 <= page.status < 400


def _starts_chain(page: PageView) -> bool:
    """False for a URL met only as a hop of another redirect (it is reported at the chain's start)."""
    rec = page.record
    hop_only = rec.source_kind == "redirect" and page.inlinks == 0 and not page.in_sitemap
    return not hop_only or page.url == page.start_url


@rule(
    id="redirect.internal",
    category="indexability",
    severity="notice",
    scope="page",
    title="Internal URL redirects",
    applies_to="url",
)
def internal(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Internal URLs answering a 3xx redirect.

    ## Why it matters
    Each redirect costs a round trip for visitors and crawl budget for search engines. Redirects
    are right for moved content, but a site should not keep linking to its own redirecting URLs.

    ## Example
    ```text
    <a href="/about-us">About</a>   (bad: GET /about-us -> 301 Location: /about)
    <a href="/about">About</a>      (good: GET /about -> 200, what internal links should point at)
    ```

    ## How to fix
    Keep the redirect for external links and bookmarks, and update internal links, canonicals
    and sitemaps to the final URL (see `links.to_redirect`).

    ## Options
    None.

    ## References
    - Google Search Central, "Redirects and Google Search":
      https://developers.google.com/search/docs/crawling-indexing/301-redirects
    """
    if _is_redirect(page):
        rec = page.record
        yield page.finding(f"Redirects ({page.status}) to {rec.location}", status=page.status, location=rec.location)


@rule(
    id="redirect.chain",
    category="indexability",
    severity="warning",
    scope="page",
    title="Redirect chain",
    applies_to="url",
    options=(
        Option("min_hops", MIN_CHAIN_HOPS, "Redirect hops (3xx answers) that make a chain",
               source="issue #3 §6; Google Search Central advises avoiding chains (Googlebot follows at most 10 hops)"),
    ),
)
def chain(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    URLs where reaching the final answer takes two or more redirects (A → B → C). Reported on the
    first URL of the chain; loops are `redirect.loop`.

    ## Why it matters
    Every hop adds latency, and crawlers give up after a few hops (Googlebot follows up to 10),
    so long chains can leave the destination uncrawled.

    ## Example
    ```text
    http://example.com/a -> https://example.com/a -> https://example.com/a/   (bad: 2 hops)
    http://example.com/a -> https://example.com/a/                           (good: 1 hop)
    ```

    ## How to fix
    Point the first URL (and every internal link to any URL of the chain) straight at the final
    destination.

    ## Options
    - `min_hops` (default 2): number of 3xx answers before the final answer that makes a chain.

    ## References
    - Google Search Central, "Redirects and Google Search":
      https://developers.google.com/search/docs/crawling-indexing/301-redirects
    """
    rec = page.record
    hops = rec.redirect_hops or 0
    if not _is_redirect(page) or rec.redirect_loop or hops < opts.min_hops or not _starts_chain(page):
        return
    yield page.finding(
        f"Redirect chain of {hops} hops before the final answer ({rec.final_status or 'none'})",
        observed=hops, threshold=opts.min_hops, hops=hops, final_status=rec.final_status,
    )


@rule(
    id="redirect.loop",
    category="indexability",
    severity="error",
    scope="page",
    title="Redirect loop",
    applies_to="url",
)
def loop(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Redirects that come back to a URL already in their own chain (A → B → A), so no final answer
    is ever reached. Reported on the first URL of the loop.

    ## Why it matters
    Browsers show "too many redirects" and crawlers give up: the content behind the loop can be
    neither visited nor indexed.

    ## Example
    ```text
    /shop -> 301 /shop/ -> 301 /shop      (bad: loop)
    /shop -> 301 /shop/ -> 200            (good)
    ```

    ## How to fix
    Find the two conflicting rules (often trailing slash, www or https normalisation set both in
    the application and the server) and keep one.

    ## Options
    None.

    ## References
    - Google Search Central, "Redirects and Google Search":
      https://developers.google.com/search/docs/crawling-indexing/301-redirects
    """
    rec = page.record
    if _is_redirect(page) and rec.redirect_loop and _starts_chain(page):
        yield page.finding(f"Redirect loop after {rec.redirect_hops} hops", hops=rec.redirect_hops)


@rule(
    id="redirect.temporary",
    category="indexability",
    severity="notice",
    scope="page",
    title="Temporary redirect",
    applies_to="url",
)
def temporary(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Internal URLs answering 302, 303 or 307 (temporary redirects).

    ## Why it matters
    A temporary redirect tells search engines the move will be undone, so they may keep the old
    URL in results; for a permanent move, 301 or 308 consolidates signals on the new URL faster.

    ## Example
    ```text
    GET /old-page -> 302 Location: /new-page    (bad if the move is permanent)
    GET /old-page -> 301 Location: /new-page    (good)
    ```

    ## How to fix
    Use 301 (or 308) for permanent moves; keep 302/307 for genuinely temporary ones (A/B tests,
    geo or login redirects).

    ## Options
    None.

    ## References
    - Google Search Central, "Redirects and Google Search":
      https://developers.google.com/search/docs/crawling-indexing/301-redirects
    """
    if page.status in TEMPORARY_STATUSES:
        rec = page.record
        yield page.finding(f"Temporary redirect ({page.status}) to {rec.location}", status=page.status, location=rec.location)


@rule(
    id="redirect.meta_refresh",
    category="indexability",
    severity="warning",
    scope="page",
    title="Meta refresh redirect",
    applies_to="html",
)
def meta_refresh(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    HTML pages whose `<meta http-equiv="refresh">` sends the browser to another URL (a plain
    reload of the same page is not a redirect).

    ## Why it matters
    A meta refresh is slower than an HTTP redirect, disorients users (the back button loops), and
    search engines treat it as a weaker, less reliable redirect signal.

    ## Example
    ```html
    <meta http-equiv="refresh" content="0; url=/new-page">   <!-- bad -->
    HTTP/1.1 301 Moved Permanently + Location: /new-page      <!-- good -->
    ```

    ## How to fix
    Replace the meta refresh with a server-side 301 redirect to the destination.

    ## Options
    None.

    ## References
    - Google Search Central, "Redirects and Google Search" (meta refresh):
      https://developers.google.com/search/docs/crawling-indexing/301-redirects#metarefresh
    """
    refresh = page.facts.meta_refresh
    if not refresh:
        return
    target = refresh.get("url")
    if not target or target == page.url:
        return
    delay = refresh.get("delay")
    after = f" after {delay:g} s" if isinstance(delay, (int, float)) else ""
    yield page.finding(f"Meta refresh redirects to {target}{after}", target=target, delay=delay,
                       snippet=refresh.get("raw"))


RULES = (internal, chain, loop, temporary, meta_refresh)
