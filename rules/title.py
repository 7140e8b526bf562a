"""Title rules: the `<title>` element, shown as the headline of search results.

Lengths are counted in characters after collapsing whitespace, which is what a results page shows.
"""

from __future__ import annotations

from collections.abc import Iterator

from emaudit.api import Finding, Option, Options, PageView, SiteView, rule

from ._common import group_findings, page_value, snippet, squash, text_key

MAX_CHARS = 60
MIN_CHARS = 30


@rule(
    id="title.missing",
    category="content",
    severity="error",
    scope="page",
    title="Title missing or empty",
    applies_to="html",
)
def missing(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    HTML pages without a `<title>`, or whose first `<title>` is empty or only whitespace.

    ## Why it matters
    The title is the clickable headline in search results and the tab name in browsers; without
    one, search engines make up a title from the page, usually a poor one.

    ## Example
    ```html
    <head><title></title></head>                               <!-- bad -->
    <head><title>Waterproof hiking boots | Acme</title></head>  <!-- good -->
    ```

    ## How to fix
    Give every page a unique, descriptive title in its `<head>`.

    ## Options
    None.

    ## References
    - Google Search Central, "Influencing your title links in search results":
      https://developers.google.com/search/docs/appearance/title-link
    """
    titles = page.facts.titles
    if not titles:
        yield page.finding("No <title> element", observed=0)
    elif not squash(titles[0]):
        yield page.finding("<title> is empty", observed=0)


@rule(
    id="title.multiple",
    category="content",
    severity="warning",
    scope="page",
    title="Several title elements",
    applies_to="html",
)
def multiple(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    HTML pages with more than one `<title>` element.

    ## Why it matters
    Only one title is used (browsers take the first); the other is dead weight that usually
    reveals two templates or plugins fighting over the head, and search engines may pick either.

    ## Example
    ```html
    <title>Boots | Acme</title><title>Acme</title>   <!-- bad -->
    <title>Boots | Acme</title>                      <!-- good -->
    ```

    ## How to fix
    Remove the extra `<title>` (check SEO plugins and theme templates that both print one).

    ## Options
    None.

    ## References
    - HTML Living Standard, "The title element" (at most one per document):
      https://html.spec.whatwg.org/multipage/semantics.html#the-title-element
    """
    titles = page.facts.titles
    if len(titles) > 1:
        yield page.finding(f"{len(titles)} <title> elements", observed=len(titles), threshold=1,
                           titles=[snippet(t) for t in titles])


@rule(
    id="title.duplicate",
    category="content",
    severity="warning",
    scope="site",
    title="Duplicate title",
    applies_to="indexable",
)
def duplicate(site: SiteView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Indexable pages sharing the same title (compared whitespace-normalised, case-insensitive).
    Each page of a group is reported, with the others listed.

    ## Why it matters
    Titles are a main hint of what a page is about: identical titles make pages compete for the
    same queries and leave users unable to tell them apart in results.

    ## Example
    ```html
    <!-- /boots/red -->   <title>Boots | Acme</title>
    <!-- /boots/blue -->  <title>Boots | Acme</title>            (bad)
    <!-- /boots/blue -->  <title>Blue leather boots | Acme</title> (good)
    ```

    ## How to fix
    Write a distinct title per page; if the pages really are the same content, consolidate them
    with a canonical or a redirect.

    ## Options
    None.

    ## References
    - Google Search Central, "Influencing your title links in search results":
      https://developers.google.com/search/docs/appearance/title-link
    """
    for ids in site.store.duplicate_groups("title"):
        value = page_value(site, ids[0], lambda facts: facts.title)
        yield from group_findings(site, ids, f"Title {snippet(value)!r} is shared by {len(ids)} indexable pages",
                                  observed=value)


@rule(
    id="title.too_long",
    category="content",
    severity="warning",
    scope="page",
    title="Title too long",
    applies_to="indexable",
    options=(Option("max_chars", MAX_CHARS, "Maximum title length, in characters", source="Screaming Frog, SEOnaut"),),
)
def too_long(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Indexable pages whose title is longer than `max_chars` characters (60).

    ## Why it matters
    Search results cut titles at about 600 pixels (roughly 60 characters): the end of a long
    title, often the brand or the key detail, is replaced by an ellipsis.

    ## Example
    ```html
    <title>Waterproof leather hiking boots for men and women, free delivery and returns | Acme</title>  <!-- bad -->
    <title>Waterproof leather hiking boots | Acme</title>                                              <!-- good -->
    ```

    ## How to fix
    Put the distinctive words first and trim the rest; drop repeated boilerplate.

    ## Options
    - `max_chars` (default 60): longest acceptable title.

    ## References
    - Google Search Central, "Influencing your title links in search results":
      https://developers.google.com/search/docs/appearance/title-link
    """
    title = squash(page.facts.title)
    if len(title) > opts.max_chars:
        yield page.finding(f"Title is {len(title)} characters (max {opts.max_chars})", observed=len(title),
                           threshold=opts.max_chars, snippet=snippet(title))


@rule(
    id="title.too_short",
    category="content",
    severity="notice",
    scope="page",
    title="Title too short",
    applies_to="indexable",
    options=(Option("min_chars", MIN_CHARS, "Minimum title length, in characters", source="Screaming Frog, SEOnaut"),),
)
def too_short(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Indexable pages whose (non-empty) title is shorter than `min_chars` characters (30). Empty
    titles are `title.missing`.

    ## Why it matters
    A very short title wastes the most visible spot of a search result and gives search engines
    little to match queries against.

    ## Example
    ```html
    <title>Boots</title>                                   <!-- bad -->
    <title>Waterproof leather hiking boots | Acme</title>  <!-- good -->
    ```

    ## How to fix
    Describe the page's content more fully: product type, key attribute, brand.

    ## Options
    - `min_chars` (default 30): shortest acceptable title.

    ## References
    - Google Search Central, "Influencing your title links in search results":
      https://developers.google.com/search/docs/appearance/title-link
    """
    title = squash(page.facts.title)
    if 0 < len(title) < opts.min_chars:
        yield page.finding(f"Title is {len(title)} characters (min {opts.min_chars})", observed=len(title),
                           threshold=opts.min_chars, snippet=snippet(title))


@rule(
    id="title.same_as_h1",
    category="content",
    severity="notice",
    scope="page",
    title="Title identical to the H1",
    applies_to="indexable",
)
def same_as_h1(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Indexable pages whose title equals one of their H1 headings (whitespace-normalised,
    case-insensitive).

    ## Why it matters
    Title and H1 serve different readers: the title competes in search results, the H1 welcomes
    the visitor on the page. Using two phrasings covers more query variants.

    ## Example
    ```html
    <title>Hiking boots</title> … <h1>Hiking boots</h1>                                       <!-- bad -->
    <title>Waterproof hiking boots for every trail | Acme</title> … <h1>Hiking boots</h1>      <!-- good -->
    ```

    ## How to fix
    Keep the H1 short and on-page; make the title the search-result version (more specific,
    with the brand).

    ## Options
    None.

    ## References
    - Google Search Central, "SEO Starter Guide" (titles and headings):
      https://developers.google.com/search/docs/fundamentals/seo-starter-guide
    """
    key = text_key(page.facts.title)
    if key and any(text_key(h1) == key for h1 in page.facts.h1s):
        yield page.finding("Title is the same as the H1", snippet=snippet(page.facts.title))


RULES = (missing, multiple, duplicate, too_long, too_short, same_as_h1)
