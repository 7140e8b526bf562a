"""Image rules: `<img>` elements of HTML pages and what their internal sources answered."""

from __future__ import annotations

from collections.abc import Iterator

from emaudit.api import Finding, Options, PageView, rule

from ._common import capped, status_of, unique_links


@rule(
    id="images.alt_missing",
    category="content",
    severity="warning",
    scope="page",
    title="Image without alt attribute",
    applies_to="html",
)
def alt_missing(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    `<img>` elements without an `alt` attribute. An empty `alt=""` marks a decorative image and
    passes.

    ## Why it matters
    Screen readers read the file name of an image without `alt`, and search engines lose the best
    description of what the image shows (image search, context of the page).

    ## Example
    ```html
    <img src="/img/boot-42.jpg">                                   <!-- bad -->
    <img src="/img/boot-42.jpg" alt="Brown leather hiking boot">   <!-- good -->
    <img src="/img/divider.png" alt="">                            <!-- good: decorative -->
    ```

    ## How to fix
    Describe each meaningful image in its `alt`; give decorative ones `alt=""`.

    ## Options
    None.

    ## References
    - Google Search Central, "Image SEO best practices" (alt text):
      https://developers.google.com/search/docs/appearance/google-images
    - W3C WAI, "An alt Decision Tree": https://www.w3.org/WAI/tutorials/images/decision-tree/
    """
    srcs = list(dict.fromkeys(ref.raw or ref.url or "" for ref in page.refs if ref.kind == "img" and ref.alt is None))
    if srcs:
        yield page.finding(f"{len(srcs)} image(s) without an alt attribute", observed=len(srcs), count=len(srcs),
                           srcs=capped(srcs))


@rule(
    id="images.broken",
    category="content",
    severity="error",
    scope="page",
    title="Broken internal image",
    applies_to="html",
)
def broken(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Images embedded with `<img>` whose internal source answers 4xx, 5xx or nothing at all. One
    finding per (page, image). Images not fetched by the crawl (resources off) are not judged.

    ## Why it matters
    Visitors see a broken-image icon, the layout shifts, and the image cannot rank in image search.

    ## Example
    ```html
    <img src="/img/old-logo.png" alt="Acme">   <!-- bad: answers 404 -->
    <img src="/img/logo.png" alt="Acme">       <!-- good: answers 200 -->
    ```

    ## How to fix
    Restore the file or point `src` at the right one; check that every `srcset` candidate exists.

    ## Options
    None.

    ## References
    - Google Search Central, "Image SEO best practices":
      https://developers.google.com/search/docs/appearance/google-images
    """
    for _, target in unique_links(page, kinds=("img",)):
        if target.internal and target.is_error:
            status = status_of(target)
            yield page.finding(f"Image {target.url} answers {status}", target=target.url, status=status)


RULES = (alt_missing, broken)
