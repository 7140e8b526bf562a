"""hreflang rules: `<link rel="alternate" hreflang>` annotations (and their Link-header form).

The extractor lower-cases language codes, so they are checked in lower case.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from emaudit.api import Finding, Options, PageView, rule

from ._common import capped, status_of

# language (ISO 639-1, or 639-2/3), optional script (ISO 15924), optional region (ISO 3166-1 alpha-2):
# the forms Google documents (it does not read UN M.49 regions such as 419).
_CODE = re.compile(r"^[a-z]{2,3}(?:-[a-z]{4})?(?:-[a-z]{2})?$")
# Frequent regions that are not ISO 3166-1 country codes, with the code meant (None: no equivalent).
_WRONG_REGIONS = {"uk": "gb", "eu": None}


def code_problem(code: str) -> str | None:
    """Why an hreflang value is not valid (None: valid)."""
    if code == "x-default":
        return None
    if not _CODE.match(code):
        return "not a language[-script][-region] code"
    region = code.rsplit("-", 1)[-1] if "-" in code else None
    if region in _WRONG_REGIONS:
        better = _WRONG_REGIONS[region]
        return f"'{region}' is not an ISO 3166-1 region" + (f" (use '{better}')" if better else "")
    return None


@rule(
    id="hreflang.invalid_code",
    category="international",
    severity="warning",
    scope="page",
    title="Invalid hreflang code",
    applies_to="html",
)
def invalid_code(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    hreflang values that are not a language code (ISO 639-1), optionally with a script (ISO 15924)
    and a region (ISO 3166-1 alpha-2), or `x-default`: `en_US`, `english`, `en-UK`.

    ## Why it matters
    Search engines ignore an annotation whose code they cannot read, so the language version it
    names is not shown to the intended audience.

    ## Example
    ```html
    <link rel="alternate" hreflang="en-UK" href="https://example.com/uk/">   <!-- bad: UK is not a region code -->
    <link rel="alternate" hreflang="en-GB" href="https://example.com/uk/">   <!-- good -->
    ```

    ## How to fix
    Use `language` or `language-REGION` codes (`fr`, `fr-CA`, `en-GB`), with a hyphen, and
    `x-default` for the fallback page.

    ## Options
    None.

    ## References
    - Google Search Central, "Tell Google about localized versions of your page":
      https://developers.google.com/search/docs/specialty/international/localized-versions
    """
    bad = [{"hreflang": h.get("lang"), "problem": problem} for h in page.facts.hreflangs
           if (problem := code_problem(str(h.get("lang") or ""))) is not None]
    if bad:
        first = bad[0]
        yield page.finding(f"{len(bad)} invalid hreflang value(s), first {first['hreflang']!r}: {first['problem']}",
                           observed=len(bad), count=len(bad), values=capped(bad))


@rule(
    id="hreflang.missing_self",
    category="international",
    severity="warning",
    scope="page",
    title="hreflang set without a self-reference",
    applies_to="html",
)
def missing_self(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Pages with hreflang annotations none of which points to the page itself.

    ## Why it matters
    Each language version must list every version, itself included; without the self-reference
    the set is incomplete and search engines may ignore it.

    ## Example
    ```html
    <!-- on https://example.com/fr/ -->
    <link rel="alternate" hreflang="en" href="https://example.com/en/">   <!-- bad: fr missing -->
    <link rel="alternate" hreflang="en" href="https://example.com/en/">
    <link rel="alternate" hreflang="fr" href="https://example.com/fr/">   <!-- good -->
    ```

    ## How to fix
    Generate the same complete list of alternates on every version, the page's own URL included.

    ## Options
    None.

    ## References
    - Google Search Central, "Tell Google about localized versions of your page":
      https://developers.google.com/search/docs/specialty/international/localized-versions
    """
    hreflangs = page.facts.hreflangs
    if hreflangs and not any(h.get("url") == page.url for h in hreflangs):
        yield page.finding(f"{len(hreflangs)} hreflang annotation(s), none for this URL", observed=len(hreflangs))


@rule(
    id="hreflang.to_non_200",
    category="international",
    severity="warning",
    scope="page",
    title="hreflang target does not answer 200",
    applies_to="html",
)
def to_non_200(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    hreflang alternates pointing to internal URLs that redirect, answer 4xx/5xx or nothing, or
    are disallowed by robots.txt. One finding per (page, target).

    ## Why it matters
    Alternates must be the final, indexable URLs: a redirecting or broken alternate breaks the
    set, and search engines drop the annotations that reference it.

    ## Example
    ```html
    <link rel="alternate" hreflang="de" href="https://example.com/de">    <!-- bad: 301 to /de/ -->
    <link rel="alternate" hreflang="de" href="https://example.com/de/">   <!-- good: 200 -->
    ```

    ## How to fix
    Point each alternate at the final 200 URL of that language version.

    ## Options
    None.

    ## References
    - Google Search Central, "Tell Google about localized versions of your page":
      https://developers.google.com/search/docs/specialty/international/localized-versions
    """
    seen: set[str] = set()
    for h in page.facts.hreflangs:
        url = h.get("url")
        target = page.target(url) if url and url not in seen else None
        if url:
            seen.add(url)
        if target is None or not target.internal or target.state not in ("done", "blocked") or target.status == 200:
            continue
        status = status_of(target)
        yield page.finding(f"hreflang {h.get('lang')} alternate {target.url} answers {status}", target=target.url,
                           status=status, hreflang=h.get("lang"))


@rule(
    id="hreflang.missing_return",
    category="international",
    severity="warning",
    scope="page",
    title="hreflang alternate does not link back",
    applies_to="html",
)
def missing_return(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    hreflang alternates of this page that are crawled HTML pages answering 200 but do not name
    this page among their own alternates (HTML ``<link>`` or HTTP ``Link`` header). One finding
    per alternate. Alternates that were not crawled (other sites, not fetched) are not judged.

    ## Why it matters
    Search engines use an hreflang pair only when both pages confirm it: if /fr/ lists /en/ but
    /en/ does not list /fr/, the annotation is ignored, so the wrong language version can rank
    in each market. Missing return links are the most common hreflang error.

    ## Example
    ```html
    <!-- /fr/ -->  <link rel="alternate" hreflang="en" href="https://example.com/en/">
    <!-- /en/ -->  (no hreflang back to /fr/)                                   <!-- bad -->
    <!-- /en/ -->  <link rel="alternate" hreflang="fr" href="https://example.com/fr/">  <!-- good -->
    ```

    ## How to fix
    Emit the same complete set of alternates (every language version, itself included) on every
    version of the page, with the exact URLs that answer 200.

    ## Options
    None.

    ## References
    - Google Search Central, "Tell Google about localized versions of your page" (each language
      version must list itself and all other language versions; one-way annotations are ignored):
      https://developers.google.com/search/docs/specialty/international/localized-versions
    """
    alternates: dict[str, str] = {}
    for h in page.facts.hreflangs:
        url = h.get("url")
        if url and url != page.url:
            alternates.setdefault(url, h.get("lang") or "")
    back: set[str] | None = None
    for url, lang in alternates.items():
        target = page.target(url)
        if target is None or not target.has_page or target.status != 200:
            continue
        if back is None:  # one index look-up per page, only for pages with crawled alternates
            back = set(page.referenced_by("hreflang"))
        if url not in back:
            yield page.finding(f"hreflang {lang} alternate {url} does not link back to this page",
                               target=url, hreflang=lang)


RULES = (invalid_code, missing_self, to_non_200, missing_return)
