"""H1 rules: the page's main heading."""

from __future__ import annotations

from collections.abc import Iterator

from emaudit.api import Finding, Options, PageView, SiteView, rule

from ._common import group_findings, page_value, snippet, squash


@rule(
    id="h1.missing",
    category="content",
    severity="warning",
    scope="page",
    title="H1 missing or empty",
    applies_to="html",
)
def missing(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    HTML pages without any `<h1>` that has text.

    ## Why it matters
    The H1 tells visitors and search engines what the page is about at a glance; screen-reader
    users jump to it to find the main content.

    ## Example
    ```html
    <div class="big">Hiking boots</div>    <!-- bad: looks like a heading, is not one -->
    <h1>Hiking boots</h1>                  <!-- good -->
    ```

    ## How to fix
    Mark the page's main heading up as an `<h1>` (one per page), with text, not only an image
    without `alt`.

    ## Options
    None.

    ## References
    - Google Search Central, "SEO Starter Guide" (headings):
      https://developers.google.com/search/docs/fundamentals/seo-starter-guide
    - W3C WAI, "Headings":
      https://www.w3.org/WAI/tutorials/page-structure/headings/
    """
    h1s = page.facts.h1s
    if not any(squash(h) for h in h1s):
        yield page.finding("No H1 with text" if not h1s else f"{len(h1s)} H1(s), all empty", observed=0)


@rule(
    id="h1.multiple",
    category="content",
    severity="notice",
    scope="page",
    title="Several H1 headings",
    applies_to="html",
)
def multiple(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    HTML pages with more than one `<h1>`.

    ## Why it matters
    Several H1s blur which topic is the page's main one and flatten the outline assistive
    technologies present. Not an error for search engines, hence a notice.

    ## Example
    ```html
    <h1>Acme</h1> … <h1>Hiking boots</h1>    <!-- bad: logo marked up as H1 too -->
    <h1>Hiking boots</h1> … <h2>Sizes</h2>   <!-- good -->
    ```

    ## How to fix
    Keep one H1 for the main topic; demote the others to `<h2>` or plain text (logos especially).

    ## Options
    None.

    ## References
    - W3C WAI, "Headings":
      https://www.w3.org/WAI/tutorials/page-structure/headings/
    """
    h1s = page.facts.h1s
    if len(h1s) > 1:
        yield page.finding(f"{len(h1s)} H1 headings", observed=len(h1s), threshold=1, h1s=[snippet(h) for h in h1s])


@rule(
    id="h1.duplicate",
    category="content",
    severity="notice",
    scope="site",
    title="Duplicate H1",
    applies_to="indexable",
)
def duplicate(site: SiteView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Indexable pages whose first H1 is the same (whitespace-normalised, case-insensitive). Each
    page of a group is reported, with the others listed.

    ## Why it matters
    Identical main headings suggest identical topics: the pages compete with each other, or the
    heading is template boilerplate rather than a description of the page.

    ## Example
    ```html
    <!-- /boots/red and /boots/blue -->  <h1>Our products</h1>    <!-- bad -->
    <!-- /boots/blue -->                 <h1>Blue leather boots</h1>  <!-- good -->
    ```

    ## How to fix
    Give each page a heading that names its own content; consolidate real duplicates.

    ## Options
    None.

    ## References
    - Google Search Central, "SEO Starter Guide" (headings):
      https://developers.google.com/search/docs/fundamentals/seo-starter-guide
    """
    for ids in site.store.duplicate_groups("h1"):
        value = page_value(site, ids[0], lambda facts: facts.h1s[0] if facts.h1s else None)
        yield from group_findings(site, ids, f"H1 {snippet(value)!r} is shared by {len(ids)} indexable pages",
                                  observed=value)


RULES = (missing, multiple, duplicate)
