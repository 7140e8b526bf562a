"""robots.txt rules: one finding per crawled origin whose robots.txt is missing, failing or malformed.

The status the crawler stored is the final one, after following up to five redirects (RFC 9309).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from emaudit.api import Finding, Options, SiteView, rule

from ._common import capped

MISSING_STATUSES = frozenset({404, 410})


def _ok(origin: dict[str, Any]) -> bool:
    status = origin["status"]
    return status is not None and 200 <= status < 300


def line_problems(body: str, url: str | None = None) -> list[tuple[int, str, str]]:
    """(line number, problem, line text) of a robots.txt body, from :mod:`emaudit.robots`'s validator."""
    from emaudit.robots import RobotsTxt  # only when the rule runs: `emaudit rules` stays light

    return RobotsTxt.parse(body, url=url).validate().problems


@rule(
    id="robots.missing",
    category="indexability",
    severity="notice",
    scope="site",
    title="robots.txt missing",
    applies_to="site",
)
def missing(site: SiteView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Crawled origins whose `/robots.txt` answers 404 or 410.

    ## Why it matters
    Without robots.txt everything may be crawled, which is fine, but there is also no place to
    declare sitemaps or keep crawlers out of faceted navigation, carts or internal search.

    ## Example
    ```text
    GET /robots.txt -> 404                                   (bad)
    GET /robots.txt -> 200                                   (good)
      User-agent: *
      Disallow: /cart/
      Sitemap: https://example.com/sitemap.xml
    ```

    ## How to fix
    Publish a robots.txt at the root of each host, at least with a `Sitemap:` line.

    ## Options
    None.

    ## References
    - Google Search Central, "Create and submit a robots.txt file":
      https://developers.google.com/search/docs/crawling-indexing/robots/create-robots-txt
    - RFC 9309, "Robots Exclusion Protocol": https://www.rfc-editor.org/rfc/rfc9309
    """
    for origin in site.store.iter_origins():
        if origin["status"] in MISSING_STATUSES:
            yield site.finding(origin["robots_url"], f"robots.txt answers {origin['status']}", status=origin["status"])


@rule(
    id="robots.unreachable",
    category="indexability",
    severity="error",
    scope="site",
    title="robots.txt unreachable",
    applies_to="site",
)
def unreachable(site: SiteView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Crawled origins whose `/robots.txt` answers 5xx (or 429) or gives no response at all.

    ## Why it matters
    Search engines read an unreachable robots.txt as "disallow everything" (RFC 9309; Google does
    so for 5xx and 429): while it lasts, the whole host is not crawled.

    ## Example
    ```text
    GET /robots.txt -> 503 Service Unavailable   (bad: crawling of the host stops)
    GET /robots.txt -> 200 or 404                (good)
    ```

    ## How to fix
    Serve robots.txt reliably (a static file, excluded from rate limiting and bot protection); if
    there is nothing to block, a 404 is better than an error.

    ## Options
    None.

    ## References
    - RFC 9309 §2.3.1.4, "Unreachable status": https://www.rfc-editor.org/rfc/rfc9309#section-2.3.1.4
    - Google Search Central, "How Google interprets the robots.txt specification":
      https://developers.google.com/search/docs/crawling-indexing/robots/robots_txt
    """
    for origin in site.store.iter_origins():
        status = origin["status"]
        if status is None:
            yield site.finding(origin["robots_url"], f"robots.txt gives no response ({origin['error'] or 'error'})",
                               status=None, error=origin["error"])
        elif status >= 500 or status == 429:
            yield site.finding(origin["robots_url"], f"robots.txt answers {status}", status=status)


@rule(
    id="robots.invalid_line",
    category="indexability",
    severity="warning",
    scope="site",
    title="Invalid robots.txt line",
    applies_to="site",
)
def invalid_line(site: SiteView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Lines of a robots.txt (answering 2xx) that crawlers ignore: unknown or misspelt directives
    (`Dissallow`, `Noindex`), lines without a colon, rules before any `User-agent` line, patterns
    not starting with `/` or `*`, non-numeric `Crawl-delay`, relative `Sitemap` URLs. Reported
    once per robots.txt, with the line numbers.

    ## Why it matters
    An ignored line silently does not do what its author meant: a misspelt `Disallow` leaves the
    section crawlable, a `Noindex` line keeps nothing out of the index.

    ## Example
    ```text
    User-agent: *
    Dissallow: /cart/           (bad: misspelt, ignored)
    Disallow /search            (bad: no colon, ignored)
    Disallow: /cart/            (good)
    ```

    ## How to fix
    Correct each reported line; `emaudit robots URL` explains every line and tests URLs against
    the rules.

    ## Options
    None.

    ## References
    - RFC 9309, "Robots Exclusion Protocol": https://www.rfc-editor.org/rfc/rfc9309
    - Google Search Central, "How Google interprets the robots.txt specification":
      https://developers.google.com/search/docs/crawling-indexing/robots/robots_txt
    """
    for origin in site.store.iter_origins():
        if not _ok(origin) or not origin["body"]:
            continue
        problems = line_problems(origin["body"], origin["robots_url"])
        if not problems:
            continue
        first_line, first_message, _ = problems[0]
        yield site.finding(
            origin["robots_url"],
            f"{len(problems)} invalid line(s) in robots.txt (first, line {first_line}: {first_message})",
            observed=len(problems), count=len(problems), line_numbers=[n for n, _, _ in problems][:200],
            lines=capped({"line": n, "problem": m, "text": t} for n, m, t in problems),
        )


RULES = (missing, unreachable, invalid_line)
