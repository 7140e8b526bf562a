"""Heading rules: the outline formed by `<h1>`…`<h6>`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from emaudit.api import Finding, Options, PageView, rule

from ._common import capped, snippet


def skipped_levels(headings: Sequence[tuple[int, str]]) -> list[dict[str, object]]:
    """Each place where a heading goes down more than one level from the previous heading."""
    jumps: list[dict[str, object]] = []
    previous: int | None = None
    for level, text in headings:
        if previous is not None and level > previous + 1:
            jumps.append({"from": f"h{previous}", "to": f"h{level}", "text": snippet(text)})
        previous = level
    return jumps


@rule(
    id="headings.skipped_level",
    category="content",
    severity="notice",
    scope="page",
    title="Heading level skipped",
    applies_to="html",
)
def skipped_level(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Headings that go down more than one level from the heading before them (`h2` followed by `h4`).
    Going back up any number of levels (`h4` then `h2`) is fine.

    ## Why it matters
    Headings form the page's outline: assistive technologies use it to navigate, and search
    engines to understand how sections relate. A skipped level suggests headings chosen for their
    look instead of their meaning.

    ## Example
    ```html
    <h2>Sizes</h2><h4>Width</h4>   <!-- bad -->
    <h2>Sizes</h2><h3>Width</h3>   <!-- good -->
    ```

    ## How to fix
    Use the next level down for sub-sections and style headings with CSS rather than picking
    levels for their default size.

    ## Options
    None.

    ## References
    - W3C WAI, "Headings" (heading ranks):
      https://www.w3.org/WAI/tutorials/page-structure/headings/
    """
    jumps = skipped_levels(page.facts.headings)
    if jumps:
        first = jumps[0]
        yield page.finding(f"Heading level skipped {len(jumps)} time(s), first {first['from']} → {first['to']}",
                           observed=len(jumps), count=len(jumps), jumps=capped(jumps))


RULES = (skipped_level,)
