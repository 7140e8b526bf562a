"""Security rules seen from the crawl: what an HTTPS page loads over plain HTTP."""

from __future__ import annotations

from collections.abc import Iterator

from emaudit.api import Finding, Options, PageView, rule

from ._common import capped


@rule(
    id="security.mixed_content",
    category="security",
    severity="warning",
    scope="page",
    title="HTTPS page loads HTTP resources",
    applies_to="html",
)
def mixed_content(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    HTTPS pages that embed sub-resources (images, scripts, stylesheets, iframes, media) with
    `http://` URLs.

    ## Why it matters
    Browsers block mixed scripts, stylesheets and iframes and warn about (or upgrade) mixed images:
    parts of the page break and the padlock disappears, which costs trust.

    ## Example
    ```html
    <script src="http://cdn.example.com/app.js"></script>    <!-- bad -->
    <script src="https://cdn.example.com/app.js"></script>   <!-- good -->
    ```

    ## How to fix
    Load every resource over HTTPS (relative or `https://` URLs); a
    `Content-Security-Policy: upgrade-insecure-requests` header is a safety net, not a fix.

    ## Options
    None.

    ## References
    - MDN, "Mixed content": https://developer.mozilla.org/en-US/docs/Web/Security/Mixed_content
    """
    urls = page.facts.mixed_content
    if page.is_https and urls:
        yield page.finding(f"{len(urls)} resource(s) loaded over http://", observed=len(urls), count=len(urls),
                           urls=capped(urls))


RULES = (mixed_content,)
