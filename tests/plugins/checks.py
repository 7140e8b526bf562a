"""Rules for engine and command tests: small, deterministic, independent of the built-in catalogue."""

from __future__ import annotations

from emaudit.api import Option, rule


@rule(id="test.long_title", category="content", severity="warning", scope="page", title="Title is long",
      applies_to="indexable", options=(Option("max_chars", 20, "Longest title allowed", source="the tests"),))
def long_title(page, opts):
    """## What it checks
    A test condition.
    ## Why it matters
    Tests need rules.
    ## How to fix
    Change the fixture.
    """
    n = len(page.facts.title or "")
    if n > opts.max_chars:
        yield page.finding(f"Title is {n} characters (max {opts.max_chars})", observed=n, threshold=opts.max_chars)


@rule(id="test.broken_link", category="links", severity="error", scope="page", title="Link to an error page",
      applies_to="html")
def broken_link(page, opts):
    """## What it checks
    A test condition.
    ## Why it matters
    Tests need rules.
    ## How to fix
    Change the fixture.
    """
    for ref in page.links:
        target = page.target(ref.url)
        if target is not None and target.is_error:
            yield page.finding(f"Links to {ref.url} ({target.status})", target=ref.url, status=target.status)


@rule(id="test.client_error", category="indexability", severity="error", scope="page", title="URL answers 4xx",
      applies_to="url")
def client_error(page, opts):
    """## What it checks
    A test condition.
    ## Why it matters
    Tests need rules.
    ## How to fix
    Change the fixture.
    """
    if page.status is not None and 400 <= page.status < 500:
        yield page.finding(f"Answers {page.status}", status=page.status)


@rule(id="test.no_lang", category="content", severity="notice", scope="page", title="No lang attribute",
      applies_to="html")
def no_lang(page, opts):
    """## What it checks
    A test condition.
    ## Why it matters
    Tests need rules.
    ## How to fix
    Change the fixture.
    """
    if not page.facts.html_lang:
        yield page.finding("The html element has no lang attribute")


@rule(id="test.duplicate_title", category="content", severity="warning", scope="site", title="Duplicate title",
      applies_to="indexable")
def duplicate_title(site, opts):
    """## What it checks
    A test condition.
    ## Why it matters
    Tests need rules.
    ## How to fix
    Change the fixture.
    """
    for group in site.store.duplicate_groups("title"):
        records = site.store.get_many(group)
        urls = sorted(records[i].url for i in group)
        for url in urls:
            yield site.finding(url, f"Title shared with {len(urls) - 1} other page(s)", others=[u for u in urls if u != url])



RULES = (long_title, broken_link, client_error, no_lang, duplicate_title)
