"""Status rules: how each internal URL answered.

Real errors (4xx, 5xx, no answer) are kept apart from answers that only say "a bot wall stopped
us" (401/403/429 and challenge pages): the latter are inconclusive, the site may be fine for
search engines, so they get their own rule instead of inflating the error count.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from emaudit.api import Finding, Options, PageView, rule

from ._common import squash

# Answers that usually mean "not for you" (authentication, WAF, rate limit) rather than "broken".
PROTECTED_STATUSES = frozenset({401, 403, 429})

# <title>s of interstitial challenge pages, lower-cased, by vendor.
CHALLENGE_TITLES = {
    "just a moment...": "Cloudflare",
    "attention required! | cloudflare": "Cloudflare",
    "access to this page has been denied": "PerimeterX (HUMAN)",
    "access to this page has been denied.": "PerimeterX (HUMAN)",
    "pardon our interruption": "Imperva (Distil)",
}
# Hosts that only serve challenge/captcha pages (a script or iframe from them = a challenge page).
CHALLENGE_HOSTS = {
    "captcha-delivery.com": "DataDome",
    "captcha.px-cdn.net": "PerimeterX (HUMAN)",
    "captcha.px-cloud.net": "PerimeterX (HUMAN)",
}
# Answers that are a real verdict on the URL even when a bot-management vendor served them.
_DEFINITE_STATUSES = frozenset({404, 410})


def _vendor_header(headers: dict[str, str]) -> str | None:
    """A bot-management vendor that is known to answer blocked requests itself."""
    server = headers.get("server", "").lower()
    if "x-datadome" in headers or "datadome" in server:
        return "DataDome"
    if "akamaighost" in server:
        return "Akamai"
    return None


def _challenge_host(page: PageView) -> str | None:
    for ref in page.refs:
        if ref.kind not in ("script", "iframe") or not ref.url:
            continue
        host = urlsplit(ref.url).hostname or ""
        for suffix, vendor in CHALLENGE_HOSTS.items():
            if host == suffix or host.endswith("." + suffix):
                return vendor
    return None


def bot_challenge(page: PageView) -> str | None:
    """Why this answer looks like a bot-challenge page (None: it does not).

    Strong markers count whatever the status. A vendor's header counts only on a 4xx other than
    404/410: protected sites send those headers on every answer, and a 5xx or a 404 passing through
    the vendor is still the origin's real verdict.
    """
    if "challenge" in page.headers.get("cf-mitigated", "").lower():
        return "Cloudflare challenge (cf-mitigated: challenge)"
    title = squash(page.facts.title).lower()
    if title in CHALLENGE_TITLES:
        return f"{CHALLENGE_TITLES[title]} challenge page (title {page.facts.title!r})"
    host_vendor = _challenge_host(page)
    if host_vendor:
        return f"{host_vendor} captcha page"
    status = page.status
    if status is not None and 400 <= status < 500 and status not in _DEFINITE_STATUSES:
        vendor = _vendor_header(page.headers)
        if vendor:
            return f"{vendor} block page (HTTP {status})"
    return None


@rule(
    id="status.client_error",
    category="indexability",
    severity="error",
    scope="page",
    title="Internal URL answers a client error (4xx)",
    applies_to="url",
)
def client_error(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Internal URLs answering 4xx, except 401, 403 and 429 and bot-challenge pages
    (those are `status.bot_protection`: inconclusive, not a verdict on the URL).

    ## Why it matters
    A 404 or 410 drops the URL from search results and wastes every link pointing at it: visitors
    hit a dead end and the link equity flowing through those links is lost.

    ## Example
    ```text
    GET /old-offer  ->  404 Not Found      (bad: linked internally, answers 404)
    GET /offer      ->  200 OK             (good)
    ```

    ## How to fix
    Restore the page, or 301-redirect the URL to its closest live equivalent, and update the
    internal links (see `links.broken`) so they point straight at a 200 page.

    ## Options
    None.

    ## References
    - Google Search Central, "How HTTP status codes affect Google's crawlers":
      https://developers.google.com/search/docs/crawling-indexing/http-network-errors
    """
    status = page.status
    if status is None or not 400 <= status < 500 or status in PROTECTED_STATUSES:
        return
    if bot_challenge(page):
        return
    yield page.finding(f"Answers {status}", status=status, inlinks=page.inlinks, inlink_sources=page.inlink_sources())


@rule(
    id="status.server_error",
    category="indexability",
    severity="error",
    scope="page",
    title="Internal URL answers a server error (5xx)",
    applies_to="url",
)
def server_error(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Internal URLs answering 5xx (a bot-challenge page served with 503 is `status.bot_protection`).

    ## Why it matters
    Search engines slow their crawling when a site answers 5xx and drop URLs that keep failing;
    visitors see an error page.

    ## Example
    ```text
    GET /search?q=shoes  ->  500 Internal Server Error   (bad)
    GET /search?q=shoes  ->  200 OK                      (good)
    ```

    ## How to fix
    Read the server logs for that URL, fix the failing code or the overloaded dependency, and
    re-crawl. A 503 for planned maintenance should carry a `Retry-After` header and stay short.

    ## Options
    None.

    ## References
    - Google Search Central, "How HTTP status codes affect Google's crawlers":
      https://developers.google.com/search/docs/crawling-indexing/http-network-errors
    """
    status = page.status
    if status is None or not 500 <= status < 600 or bot_challenge(page):
        return
    yield page.finding(f"Answers {status}", status=status, inlinks=page.inlinks)


@rule(
    id="status.no_response",
    category="indexability",
    severity="error",
    scope="page",
    title="Internal URL gives no response",
    applies_to="url",
)
def no_response(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Internal URLs that were requested but gave no HTTP answer: timeout, DNS failure, refused or
    reset connection, TLS error.

    ## Why it matters
    A URL that does not answer cannot be crawled or shown; repeated failures make search engines
    crawl the whole host less.

    ## Example
    ```text
    GET /reports/2023.pdf  ->  timeout after 20 s      (bad)
    GET /reports/2023.pdf  ->  200 OK in 300 ms        (good)
    ```

    ## How to fix
    Check the error kind in the details: a timeout points at a slow backend, a TLS error at the
    certificate chain, a DNS error at the host name's records.

    ## Options
    None.

    ## References
    - Google Search Central, "Network and DNS errors":
      https://developers.google.com/search/docs/crawling-indexing/http-network-errors#network-and-dns-errors
    """
    if page.state != "done" or page.status is not None:
        return
    kind = page.error_kind or "error"
    reason = f"{kind}: {page.error}" if page.error else kind
    yield page.finding(f"No response ({reason})", error_kind=page.error_kind, error=page.error, inlinks=page.inlinks)


@rule(
    id="status.bot_protection",
    category="indexability",
    severity="warning",
    scope="page",
    title="Internal URL answers with bot protection (inconclusive)",
    applies_to="url",
)
def bot_protection(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Internal URLs answering 401, 403 or 429, or serving a bot-challenge page (Cloudflare
    `cf-mitigated: challenge` header or "Just a moment..." / "Attention Required! | Cloudflare"
    title, DataDome, PerimeterX, Akamai or Imperva block and captcha pages).

    ## Why it matters
    The crawler was stopped by authentication, a firewall or a rate limit, so the page's real state
    is unknown: the audit of that URL is inconclusive. If search engine bots get the same answer,
    the page cannot be indexed.

    ## Example
    ```text
    GET /pricing  ->  403, header cf-mitigated: challenge   (bad: the audit could not see the page)
    GET /pricing  ->  200 OK                                 (good)
    ```

    ## How to fix
    Allow the audit's user agent or IP in the firewall/bot-management rules, lower the crawl rate
    (`--rate`), or pass credentials; check in Search Console that Googlebot is not blocked too.

    ## Options
    None.

    ## References
    - Cloudflare, "Detect a Challenge Page response":
      https://developers.cloudflare.com/cloudflare-challenges/challenge-types/challenge-pages/detect-response/
    - Google Search Central, "Verifying Googlebot":
      https://developers.google.com/search/docs/crawling-indexing/verifying-googlebot
    """
    challenge = bot_challenge(page)
    if challenge:
        yield page.finding(f"Answers {page.status} with a bot challenge: {challenge}", status=page.status, marker=challenge)
    elif page.status in PROTECTED_STATUSES:
        yield page.finding(f"Answers {page.status} (access refused or rate-limited)", status=page.status)


@rule(
    id="status.blocked_by_robots",
    category="indexability",
    severity="notice",
    scope="page",
    title="Internal URL is disallowed by robots.txt",
    applies_to="url",
)
def blocked_by_robots(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Internal URLs found through a link or a sitemap that robots.txt disallows, so they were not
    fetched.

    ## Why it matters
    Search engines cannot crawl a disallowed URL; it may still be indexed without its content (a
    bare URL in results) when it is linked. Often intended (carts, filters), sometimes a mistake
    that hides whole sections.

    ## Example
    ```text
    robots.txt: Disallow: /products/     (bad if /products/ holds pages meant to rank)
    robots.txt: Disallow: /cart/         (good: only what should stay out of crawling)
    ```

    ## How to fix
    If the URL should rank, remove or narrow the `Disallow` rule. If it must stay out of results,
    allow crawling and use `noindex` instead: a blocked page's `noindex` is never seen.

    ## Options
    None.

    ## References
    - Google Search Central, "Introduction to robots.txt":
      https://developers.google.com/search/docs/crawling-indexing/robots/intro
    """
    if page.blocked:
        yield page.finding("Disallowed by robots.txt: not fetched", inlinks=page.inlinks, in_sitemap=page.in_sitemap)


RULES = (client_error, server_error, no_response, bot_protection, blocked_by_robots)
