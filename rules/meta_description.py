"""Meta description rules: `<meta name="description">`, often used as the search result snippet."""

from __future__ import annotations

from collections.abc import Iterator

from emaudit.api import Finding, Option, Options, PageView, SiteView, rule

from ._common import group_findings, page_value, snippet, squash

MAX_CHARS = 155
MIN_CHARS = 70


@rule(
    id="meta_description.missing",
    category="content",
    severity="warning",
    scope="page",
    title="Meta description missing or empty",
    applies_to="indexable",
)
def missing(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Indexable pages without a non-empty `<meta name="description">`.

    ## Why it matters
    Search engines often show the meta description as the snippet under the title; without one
    they pick text from the page, which may not sell the click.

    ## Example
    ```html
    <meta name="description" content="">                                                    <!-- bad -->
    <meta name="description" content="Waterproof leather hiking boots, tested on 500 km of trails. Free returns.">  <!-- good -->
    ```

    ## How to fix
    Write a unique, specific summary of each page (one or two sentences).

    ## Options
    None.

    ## References
    - Google Search Central, "Control your snippets in search results":
      https://developers.google.com/search/docs/appearance/snippet
    """
    descriptions = page.facts.meta_descriptions
    if not descriptions:
        yield page.finding("No meta description", observed=0)
    elif not squash(descriptions[0]):
        yield page.finding("Meta description is empty", observed=0)


@rule(
    id="meta_description.multiple",
    category="content",
    severity="warning",
    scope="page",
    title="Several meta descriptions",
    applies_to="html",
)
def multiple(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    HTML pages with more than one `<meta name="description">`.

    ## Why it matters
    Search engines use one of them, not necessarily the intended one; two tags usually mean two
    plugins or templates writing the head.

    ## Example
    ```html
    <meta name="description" content="Hiking boots…"><meta name="description" content="Acme shop">  <!-- bad -->
    <meta name="description" content="Hiking boots…">                                               <!-- good -->
    ```

    ## How to fix
    Remove the duplicate tag at its source (theme, SEO plugin, tag manager).

    ## Options
    None.

    ## References
    - Google Search Central, "Control your snippets in search results":
      https://developers.google.com/search/docs/appearance/snippet
    """
    descriptions = page.facts.meta_descriptions
    if len(descriptions) > 1:
        yield page.finding(f"{len(descriptions)} meta descriptions", observed=len(descriptions), threshold=1,
                           descriptions=[snippet(d) for d in descriptions])


@rule(
    id="meta_description.duplicate",
    category="content",
    severity="warning",
    scope="site",
    title="Duplicate meta description",
    applies_to="indexable",
)
def duplicate(site: SiteView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Indexable pages sharing the same meta description (whitespace-normalised, case-insensitive).
    Each page of a group is reported, with the others listed.

    ## Why it matters
    Identical snippets make different results look the same to searchers, and search engines
    tend to ignore boilerplate descriptions and generate their own.

    ## Example
    ```html
    <!-- on every product page -->
    <meta name="description" content="Acme, the outdoor shop.">    <!-- bad -->
    <!-- on /boots/blue -->
    <meta name="description" content="Blue leather boots, sizes 36 to 47, free returns.">  <!-- good -->
    ```

    ## How to fix
    Write a description per page, or generate one from each page's own data (product name,
    attributes, price).

    ## Options
    None.

    ## References
    - Google Search Central, "Control your snippets in search results" (unique descriptions):
      https://developers.google.com/search/docs/appearance/snippet
    """
    for ids in site.store.duplicate_groups("description"):
        value = page_value(site, ids[0], lambda facts: facts.meta_description)
        yield from group_findings(site, ids, f"Meta description {snippet(value)!r} is shared by {len(ids)} indexable pages",
                                  observed=value)


@rule(
    id="meta_description.too_long",
    category="content",
    severity="notice",
    scope="page",
    title="Meta description too long",
    applies_to="indexable",
    options=(Option("max_chars", MAX_CHARS, "Maximum meta description length, in characters",
                    source="Screaming Frog (155 characters)"),),
)
def too_long(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Indexable pages whose meta description is longer than `max_chars` characters (155).

    ## Why it matters
    Snippets are cut at about 920 pixels on desktop (roughly 155 characters): the end of the
    description is lost behind an ellipsis.

    ## Example
    ```html
    <meta name="description" content="(a 240-character paragraph)">                   <!-- bad -->
    <meta name="description" content="Waterproof leather hiking boots. Free returns.">  <!-- good -->
    ```

    ## How to fix
    Put the key message in the first 150 characters and cut the rest.

    ## Options
    - `max_chars` (default 155): longest acceptable description.

    ## References
    - Google Search Central, "Control your snippets in search results":
      https://developers.google.com/search/docs/appearance/snippet
    """
    text = squash(page.facts.meta_description)
    if len(text) > opts.max_chars:
        yield page.finding(f"Meta description is {len(text)} characters (max {opts.max_chars})", observed=len(text),
                           threshold=opts.max_chars, snippet=snippet(text))


@rule(
    id="meta_description.too_short",
    category="content",
    severity="notice",
    scope="page",
    title="Meta description too short",
    applies_to="indexable",
    options=(Option("min_chars", MIN_CHARS, "Minimum meta description length, in characters",
                    source="Screaming Frog (70 characters)"),),
)
def too_short(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Indexable pages whose (non-empty) meta description is shorter than `min_chars` characters
    (70). Missing ones are `meta_description.missing`.

    ## Why it matters
    A very short description leaves room unused in the snippet, and search engines often replace
    it with text of their own choosing.

    ## Example
    ```html
    <meta name="description" content="Boots.">                                                <!-- bad -->
    <meta name="description" content="Waterproof leather hiking boots, tested on 500 km of trails.">  <!-- good -->
    ```

    ## How to fix
    Summarise what the page offers and why to click, in one or two full sentences.

    ## Options
    - `min_chars` (default 70): shortest acceptable description.

    ## References
    - Google Search Central, "Control your snippets in search results":
      https://developers.google.com/search/docs/appearance/snippet
    """
    text = squash(page.facts.meta_description)
    if 0 < len(text) < opts.min_chars:
        yield page.finding(f"Meta description is {len(text)} characters (min {opts.min_chars})", observed=len(text),
                           threshold=opts.min_chars, snippet=snippet(text))


RULES = (missing, multiple, duplicate, too_long, too_short)
