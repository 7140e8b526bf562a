"""Link rules: the `<a href>` links of each HTML page and what their internal targets answered.

Findings about a link's target (broken, redirecting) are one per (source page, target): a link
repeated in the header, body and footer is one problem to fix. Findings about how links are
written (anchors, nofollow, uncrawlable) are one per page, listing the offending links.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

from emaudit.api import Finding, Option, Options, PageView, rule

from ._common import capped, is_internal, squash, status_of, unique_links

if TYPE_CHECKING:
    from emaudit.models import Ref
    from emaudit.store import Target

# links.broken: answers that mean "refused to the crawler", not "broken" (see status.bot_protection).
IGNORED_STATUSES = (401, 403, 429)

# links.generic_anchor. English: Lighthouse's "link-text" audit list (first 14) plus a few common
# ones; French: the usual French calls to action, after the same idea.
GENERIC_ANCHORS_EN = (
    "click here", "click this", "go", "here", "information", "learn more", "more", "more info",
    "more information", "right here", "read more", "see more", "start", "this", "continue",
    "continue reading", "link", "this link", "details",
)
GENERIC_ANCHORS_FR = (
    "cliquez ici", "cliquez-ici", "clique ici", "ici", "en savoir plus", "en savoir +", "lire la suite",
    "voir plus", "plus", "plus d'infos", "plus d'informations", "suite", "la suite", "lire plus",
    "voir", "lien", "ce lien", "découvrir", "détails", "continuer", "continuer la lecture",
)
GENERIC_ANCHORS = {"en": GENERIC_ANCHORS_EN, "fr": GENERIC_ANCHORS_FR}

_EDGE_PUNCTUATION = " \t\n.,;:!?…»«\"'()[]{}>→-–—"
_JAVASCRIPT = re.compile(r"^\s*javascript:", re.IGNORECASE)


def _internal_anchor_links(page: PageView) -> Iterator[tuple[Ref, Target]]:
    """(ref, target) for each distinct internal target of the page's `<a>` links."""
    for ref, target in unique_links(page):
        if target.internal:
            yield ref, target


@rule(
    id="links.broken",
    category="links",
    severity="error",
    scope="page",
    title="Broken internal link",
    applies_to="html",
    options=(
        Option("ignore_statuses", IGNORED_STATUSES,
               "Target statuses not counted as broken (reported by status.bot_protection instead)",
               source="issue #3 §6: 401/403/429 are inconclusive bot-protection answers"),
    ),
)
def broken(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    `<a href>` links from the page to internal URLs answering 4xx, 5xx or nothing at all. One
    finding per (page, target), however often the link is repeated on the page.

    ## Why it matters
    Broken links send visitors to error pages and waste the crawl budget and link equity that
    should flow to live pages.

    ## Example
    ```html
    <a href="/old-offer">Spring offer</a>   <!-- bad: /old-offer answers 404 -->
    <a href="/offer">Spring offer</a>       <!-- good: answers 200 -->
    ```

    ## How to fix
    Point the link at the live URL, or remove it; if the target moved, also 301-redirect it.

    ## Options
    - `ignore_statuses` (default 401, 403, 429): target answers that say "access refused" rather
      than "broken"; those targets are reported by `status.bot_protection`.

    ## References
    - Google Search Central, "Link best practices":
      https://developers.google.com/search/docs/crawling-indexing/links-crawlable
    """
    ignored = set(opts.ignore_statuses)
    for ref, target in _internal_anchor_links(page):
        if target.is_error and target.status not in ignored:
            status = status_of(target)
            yield page.finding(f"Links to {target.url} which answers {status}", target=target.url, status=status,
                               anchor=squash(ref.anchor))


@rule(
    id="links.to_redirect",
    category="links",
    severity="notice",
    scope="page",
    title="Internal link to a redirect",
    applies_to="html",
)
def to_redirect(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    `<a href>` links to internal URLs that answer a 3xx redirect. One finding per (page, target).

    ## Why it matters
    Each click and each crawl pays an extra round trip, and link signals pass through a hop
    instead of reaching the destination directly.

    ## Example
    ```html
    <a href="http://example.com/about">About</a>    <!-- bad: redirects to https://example.com/about -->
    <a href="https://example.com/about">About</a>   <!-- good -->
    ```

    ## How to fix
    Update the link to the redirect's final destination.

    ## Options
    None.

    ## References
    - Google Search Central, "Redirects and Google Search":
      https://developers.google.com/search/docs/crawling-indexing/301-redirects
    """
    for ref, target in _internal_anchor_links(page):
        if target.is_redirect:
            yield page.finding(f"Links to {target.url} which redirects ({target.status})", target=target.url,
                               status=target.status, hops=target.redirect_hops, final_status=target.final_status,
                               anchor=squash(ref.anchor))


@rule(
    id="links.internal_nofollow",
    category="links",
    severity="notice",
    scope="page",
    title="Internal links with rel=nofollow",
    applies_to="html",
)
def internal_nofollow(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    `<a rel="nofollow">` links to internal URLs (page-level `nofollow` is `index.nofollow_page`).

    ## Why it matters
    `nofollow` asks search engines not to follow or credit the link: on your own pages it starves
    the target of internal link signals and may keep it from being discovered.

    ## Example
    ```html
    <a href="/pricing" rel="nofollow">Pricing</a>   <!-- bad -->
    <a href="/pricing">Pricing</a>                  <!-- good -->
    ```

    ## How to fix
    Remove `nofollow` from internal links. To keep a page out of results use `noindex` on it; to
    keep crawlers out, robots.txt.

    ## Options
    None.

    ## References
    - Google Search Central, "Qualify your outbound links to Google":
      https://developers.google.com/search/docs/crawling-indexing/qualify-outbound-links
    """
    urls = [t.url for ref, t in _internal_anchor_links(page) if "nofollow" in ref.rel.split()]
    if urls:
        yield page.finding(f"{len(urls)} internal link(s) with rel=nofollow", observed=len(urls), count=len(urls),
                           targets=capped(urls))


@lru_cache(maxsize=32_768)
def _anchor_key(text: str) -> str:
    """Comparison key of an anchor text. Cached: a site repeats its menu and footer anchors on
    every page (this ran ~100 times a page, 2.4 s of a 50,000-page audit)."""
    return squash(text).casefold().strip(_EDGE_PUNCTUATION).replace("’", "'")


def _generic_set(anchors: Mapping[str, Iterable[str]], lang: str | None) -> frozenset[str]:
    """The page language's list when there is one, otherwise every list (as Lighthouse does)."""
    primary = (lang or "").split("-")[0].strip().lower()
    key = (id(anchors), primary)
    cached = _GENERIC_SETS.get(key)
    if cached is not None and cached[0] is anchors:  # same option object (one per audit), same language
        return cached[1]
    lists = [anchors[primary]] if primary in anchors else list(anchors.values())
    generic = frozenset(_anchor_key(a) for words in lists for a in words)
    if len(_GENERIC_SETS) > 64:
        _GENERIC_SETS.clear()
    _GENERIC_SETS[key] = (anchors, generic)
    return generic


_GENERIC_SETS: dict[tuple[int, str], tuple[Mapping[str, Iterable[str]], frozenset[str]]] = {}


@rule(
    id="links.generic_anchor",
    category="links",
    severity="notice",
    scope="page",
    title="Generic anchor text",
    applies_to="html",
    options=(
        Option("anchors", GENERIC_ANCHORS,
               "Generic anchor texts per language (primary subtag of <html lang>; all lists when unknown)",
               source="en: Lighthouse link-text audit list plus continue/details/link; fr: emaudit list (issue #3 §6)"),
    ),
)
def generic_anchor(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Links to web pages whose whole visible text is a generic phrase such as "click here", "read
    more", "here", "cliquez ici", "en savoir plus", "lire la suite". The list follows the page's
    `<html lang>`; without a known language every list is used. Case, spacing and surrounding
    punctuation are ignored.

    ## Why it matters
    Anchor text tells users and search engines what the target is about; "read more" says nothing,
    and screen-reader users browsing a list of links hear ten identical "read more".

    ## Example
    ```html
    <a href="/guide/seo">Read more</a>                 <!-- bad -->
    <a href="/guide/seo">Read our SEO guide</a>        <!-- good -->
    ```

    ## How to fix
    Rewrite the anchor to describe the target (its topic or the page title), or move the link onto
    descriptive words of the surrounding sentence.

    ## Options
    - `anchors` (default English and French lists): a table of language code to generic anchor
      texts, e.g. `[rules."links.generic_anchor".anchors] de = ["hier", "mehr"]` (replaces the
      defaults: repeat `en`/`fr` to keep them).

    ## References
    - Google Search Central, "Link best practices" (anchor text):
      https://developers.google.com/search/docs/crawling-indexing/links-crawlable#anchor-text-placement
    - Lighthouse, "Links do not have descriptive text":
      https://developer.chrome.com/docs/lighthouse/seo/link-text
    """
    generic = _generic_set(opts.anchors, page.facts.html_lang)
    found = [{"target": ref.url, "anchor": squash(ref.anchor)} for ref in page.links
             if _anchor_key(ref.anchor) in generic and ref.url and ref.url.startswith(("http://", "https://"))]
    if found:
        texts = sorted({f["anchor"] for f in found})
        yield page.finding(f"{len(found)} link(s) with generic anchor text ({', '.join(repr(t) for t in texts[:5])})",
                           observed=len(found), count=len(found), links=capped(found))


def _has_accessible_name(ref: Ref) -> bool:
    if _has_text(ref.anchor) or _has_text(ref.alt):
        return True
    return ref.extra is not None and _has_text(ref.extra.get("aria_label"))


def _has_text(text: str | None) -> bool:
    """``bool(squash(text))`` without building the squashed string: str.isspace() and str.split()
    agree on what whitespace is."""
    return bool(text) and not text.isspace()  # type: ignore[union-attr]


@rule(
    id="links.empty_anchor",
    category="links",
    severity="notice",
    scope="page",
    title="Link without text",
    applies_to="html",
)
def empty_anchor(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    `<a href>` links with no visible text, no `alt` on an image inside, and no `aria-label`.

    ## Why it matters
    Such a link gives search engines no anchor text and screen readers nothing to announce but the
    URL: its target loses context and the page loses accessibility.

    ## Example
    ```html
    <a href="/cart"><svg>…</svg></a>                         <!-- bad -->
    <a href="/cart" aria-label="Shopping cart"><svg>…</svg></a>  <!-- good -->
    <a href="/"><img src="logo.png" alt="Acme home"></a>       <!-- good -->
    ```

    ## How to fix
    Add visible text, an `alt` to the image inside the link, or an `aria-label`.

    ## Options
    None.

    ## References
    - Google Search Central, "Link best practices":
      https://developers.google.com/search/docs/crawling-indexing/links-crawlable
    - W3C WCAG 2.2, Success Criterion 2.4.4 "Link Purpose (In Context)":
      https://www.w3.org/WAI/WCAG22/Understanding/link-purpose-in-context
    """
    empty = [ref.raw for ref in page.links if ref.raw is not None and not _has_accessible_name(ref)]
    if empty:
        yield page.finding(f"{len(empty)} link(s) without text, image alt or aria-label", observed=len(empty),
                           count=len(empty), hrefs=capped(empty))


def _uncrawlable_reason(ref: Ref) -> str | None:
    raw = ref.raw
    if raw is None:
        return "no href, onclick" if (ref.extra or {}).get("onclick") else None
    if not raw.strip():
        return "empty href"
    if _JAVASCRIPT.match(raw):
        return "javascript: href"
    return None


@rule(
    id="links.uncrawlable",
    category="links",
    severity="warning",
    scope="page",
    title="Uncrawlable link",
    applies_to="html",
)
def uncrawlable(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    `<a>` elements that act as links but give crawlers no URL: `href="javascript:…"`, an empty
    `href`, or no `href` with an `onclick` handler.

    ## Why it matters
    Search engines only follow `<a>` elements with a resolvable URL in `href`: content reachable
    only through such links may never be discovered.

    ## Example
    ```html
    <a onclick="go('/shoes')">Shoes</a>          <!-- bad -->
    <a href="javascript:go('/shoes')">Shoes</a>  <!-- bad -->
    <a href="/shoes">Shoes</a>                   <!-- good -->
    ```

    ## How to fix
    Put the destination URL in `href` (keep the script as progressive enhancement), or use a
    `<button>` for actions that are not navigation.

    ## Options
    None.

    ## References
    - Google Search Central, "Make your links crawlable":
      https://developers.google.com/search/docs/crawling-indexing/links-crawlable
    """
    found = []
    for ref in page.links:
        reason = _uncrawlable_reason(ref)
        if reason:
            found.append({"reason": reason, "href": ref.raw, "anchor": squash(ref.anchor)})
    if found:
        yield page.finding(f"{len(found)} link(s) without a crawlable href", observed=len(found), count=len(found),
                           links=capped(found))


@rule(
    id="links.dead_end",
    category="links",
    severity="notice",
    scope="page",
    title="Page without internal links",
    applies_to="html",
)
def dead_end(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    HTML pages with no `<a href>` link to any internal URL.

    ## Why it matters
    A dead-end page stops crawlers and visitors: it passes no link signals on to the rest of the
    site and leaves users with only the back button.

    ## Example
    ```html
    <body><p>Thanks for your order.</p></body>                               <!-- bad -->
    <body><p>Thanks for your order.</p><a href="/shop">Keep shopping</a></body>  <!-- good -->
    ```

    ## How to fix
    Add navigation (header, footer, breadcrumbs) or contextual links to related pages.

    ## Options
    None.

    ## References
    - Google Search Central, "Link best practices":
      https://developers.google.com/search/docs/crawling-indexing/links-crawlable
    """
    if not any(ref.url != page.url and is_internal(page, ref.url) for ref in page.links):
        yield page.finding(f"No internal links ({len(page.links)} link(s) in total)", observed=0, links=len(page.links))


RULES = (broken, to_redirect, internal_nofollow, generic_anchor, empty_anchor, uncrawlable, dead_end)
