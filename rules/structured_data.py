"""Structured data rules: JSON-LD blocks as the extractor parsed them."""

from __future__ import annotations

from collections.abc import Iterator

from emaudit.api import Finding, Options, PageView, rule

from ._common import capped, snippet


@rule(
    id="structured_data.jsonld_invalid",
    category="structured_data",
    severity="error",
    scope="page",
    title="JSON-LD block does not parse",
    applies_to="html",
)
def jsonld_invalid(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    `<script type="application/ld+json">` blocks that are not valid JSON (trailing commas,
    unescaped quotes, comments, truncated output of a template).

    ## Why it matters
    A block that does not parse is ignored whole: the page loses the rich results (products,
    reviews, breadcrumbs, FAQ …) that block was written for.

    ## Example
    ```html
    <script type="application/ld+json">{"@type": "Product", "name": "Boots",}</script>   <!-- bad -->
    <script type="application/ld+json">{"@type": "Product", "name": "Boots"}</script>    <!-- good -->
    ```

    ## How to fix
    Generate JSON-LD with a JSON serializer instead of string templates, and check the page with
    Google's Rich Results Test.

    ## Options
    None.

    ## References
    - Google Search Central, "General structured data guidelines":
      https://developers.google.com/search/docs/appearance/structured-data/sd-policies
    """
    errors = [snippet(block.get("error")) for block in page.facts.jsonld if block.get("error")]
    if errors:
        yield page.finding(f"{len(errors)} of {len(page.facts.jsonld)} JSON-LD block(s) do not parse ({errors[0]})",
                           observed=len(errors), count=len(errors), errors=capped(errors))


RULES = (jsonld_invalid,)
