"""Content rules: amount and uniqueness of the main text, document language, mobile viewport.

Near-duplicates compare the 64-bit simhash of each page's main text. Candidate pairs come from
locality-sensitive hashing over blocks of those bits (see :func:`near_duplicate_pairs`), so the
cost grows with the number of similar pairs, not with the square of the number of pages, and
only (id, simhash, content hash) triples are held in memory, never the pages' facts.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from emaudit.api import Finding, Option, Options, PageView, SiteView, rule

from ._common import RELATED_CAP, group_findings

MIN_WORDS = 200
MIN_SIMILARITY = 0.90
HASH_BITS = 64
_MASK64 = (1 << HASH_BITS) - 1


# ---------------------------------------------------------------- near-duplicate search
def max_distance(min_similarity: float) -> int:
    """Largest Hamming distance between two simhashes still ``min_similarity`` similar.

    similarity = 1 - distance / 64, so 90 % allows 6 differing bits.
    """
    return max(0, math.floor((1.0 - min_similarity) * HASH_BITS + 1e-9))


def block_masks(blocks: int) -> list[int]:
    """64 bits split into ``blocks`` contiguous masks whose sizes differ by at most one bit."""
    masks, start = [], 0
    for i in range(blocks):
        size = HASH_BITS // blocks + (1 if i < HASH_BITS % blocks else 0)
        masks.append(((1 << size) - 1) << start)
        start += size
    return masks


def lsh_plan(max_bits: int) -> tuple[list[int], int]:
    """Block masks and how many blocks two candidates must share.

    Split the hash into ``max_bits + m`` blocks: two hashes differing in at most ``max_bits`` bits
    differ in at most ``max_bits`` blocks, so at least ``m`` blocks are identical (pigeonhole).
    Indexing every combination of ``m`` blocks therefore finds *every* pair within the distance
    (no false negatives), while each table's key stays long enough (16 bits for 90 %: 8 blocks,
    2 shared, 28 tables) to keep buckets small. Manku, Jain & Das Sarma (WWW 2007) use the same
    idea to find near-duplicate simhashes at Google scale.
    """
    shared = 1 if max_bits <= 3 else 2
    blocks = min(HASH_BITS, max_bits + shared)
    return block_masks(blocks), max(0, blocks - max_bits)


def near_duplicate_pairs(hashes: Sequence[int], max_bits: int) -> Iterator[tuple[int, int, int]]:
    """(i, j, distance) for every pair of ``hashes`` (distinct values) within ``max_bits``.

    Each pair is reported once: by the table of the first ``shared`` blocks it has in common, so
    a table only looks at pairs that differ in every earlier block (see :func:`_bucket_pairs`).
    """
    masks, shared = lsh_plan(max_bits)
    if shared == 0:  # similarity threshold so low that every pair qualifies
        yield from ((i, j, (hashes[i] ^ hashes[j]).bit_count()) for i, j in combinations(range(len(hashes)), 2))
        return
    for combo in combinations(range(len(masks)), shared):
        key_mask = 0
        for b in combo:
            key_mask |= masks[b]
        earlier = [masks[b] for b in range(combo[-1]) if b not in combo]
        buckets: dict[int, list[int]] = defaultdict(list)
        for i, h in enumerate(hashes):
            buckets[h & key_mask].append(i)
        for members in buckets.values():
            if len(members) > 1:
                for a, b in _bucket_pairs(members, hashes, earlier, max_bits):
                    distance = (hashes[a] ^ hashes[b]).bit_count()
                    if distance <= max_bits:
                        yield a, b, distance


_BITSET_FROM = 48  # bucket size from which candidate pairs are filtered with bitsets


def _bucket_pairs(members: list[int], hashes: Sequence[int], earlier: list[int],
                  max_bits: int) -> Iterator[tuple[int, int]]:
    """Pairs of a bucket that differ in every ``earlier`` block (the others met in an earlier table).

    Small buckets: most of their pairs share the table's blocks by chance and are far apart, so
    the distance (one xor and bit_count) is tested before the earlier blocks: on 100,000 pages of
    one template (simhash bits biased), ~5.6 million candidate pairs cost 1 s instead of 5.
    Pairs farther apart than ``max_bits`` may be dropped here (the caller drops them anyway).
    Large buckets (a cluster of near-identical pages) filter with integer bitsets, one per value of
    each earlier block: a member's partners are the later members outside its groups, found with a
    few C-speed AND/NOT operations instead of one Python comparison per pair and table.
    """
    if len(members) < _BITSET_FROM or not earlier:
        values = [hashes[m] for m in members]
        for n, h in enumerate(values):
            a = members[n]
            for k in range(n + 1, len(values)):
                x = h ^ values[k]
                if x.bit_count() <= max_bits:
                    for mask in earlier:
                        if not x & mask:
                            break
                    else:
                        yield a, members[k]
        return
    groups: list[dict[int, int]] = []
    for mask in earlier:
        group: dict[int, int] = defaultdict(int)
        for n, m in enumerate(members):
            group[hashes[m] & mask] |= 1 << n
        groups.append(group)
    for n, m in enumerate(members):
        h = hashes[m]
        partners = -1 << (n + 1)  # later members only
        for mask, group in zip(earlier, groups):
            partners &= ~group[h & mask]
        partners &= (1 << len(members)) - 1
        while partners:
            low = partners & -partners
            yield m, members[low.bit_length() - 1]
            partners ^= low


_NOTHING = object()  # page_ids(): skip no content hash


@dataclass
class _Value:
    """Pages sharing one simhash value, and the nearest other values."""

    members: dict[str | None, list[int]] = field(default_factory=dict)  # content hash → page ids
    size: int = 0
    nearby_pages: int = 0  # pages of all other values within the distance
    nearest: list[tuple[int, int]] = field(default_factory=list)  # heap of (-distance, value index), capped

    def add(self, page_id: int, content_hash: str | None) -> None:
        self.members.setdefault(content_hash, []).append(page_id)
        self.size += 1

    def link(self, other_size: int, other_index: int, distance: int, cap: int) -> None:
        self.nearby_pages += other_size
        entry = (-distance, other_index)
        if len(self.nearest) < cap:
            heapq.heappush(self.nearest, entry)
        elif entry > self.nearest[0]:
            heapq.heapreplace(self.nearest, entry)

    def page_ids(self, cap: int, skip: object = _NOTHING) -> list[int]:
        """Up to ``cap`` member pages whose content hash is not ``skip`` (exact copies are not near ones)."""
        out: list[int] = []
        for content_hash, ids in self.members.items():
            if content_hash != skip:
                out.extend(ids[: cap - len(out)])
                if len(out) >= cap:
                    break
        return out


def near_duplicates(rows: Iterable[tuple[int, int, str | None]], min_similarity: float,
                    cap: int = RELATED_CAP) -> Iterator[tuple[int, int, list[tuple[int, float]]]]:
    """For each page with near-duplicates: (page id, how many, up to ``cap`` (id, similarity)).

    ``rows`` are (page id, simhash, content hash). Pages with the same content hash are exact
    duplicates (``content.exact_duplicate``) and are not counted as near-duplicates of each other.
    Identical simhashes are grouped first, so a large cluster of identical texts costs one value.
    """
    max_bits = max_distance(min_similarity)
    by_hash: dict[int, _Value] = defaultdict(_Value)
    for page_id, simhash, content_hash in rows:
        by_hash[simhash & _MASK64].add(page_id, content_hash)
    hashes = list(by_hash)
    values = [by_hash[h] for h in hashes]
    for i, j, distance in near_duplicate_pairs(hashes, max_bits):
        values[i].link(values[j].size, j, distance, cap)
        values[j].link(values[i].size, i, distance, cap)
    for value in values:
        yield from _page_results(value, values, cap)


def _page_results(value: _Value, values: Sequence[_Value], cap: int) -> Iterator[tuple[int, int, list[tuple[int, float]]]]:
    nearest = sorted((-neg, index) for neg, index in value.nearest)
    for content_hash, ids in value.members.items():
        count = value.size - len(ids) + value.nearby_pages
        if not count:
            continue
        others = [(pid, 1.0) for pid in value.page_ids(cap, skip=content_hash)] if value.size > len(ids) else []
        for distance, index in nearest:
            if len(others) >= cap:
                break
            similarity = round(1 - distance / HASH_BITS, 4)
            others.extend((pid, similarity) for pid in values[index].page_ids(cap - len(others)))
        for page_id in ids:
            yield page_id, count, others


# ---------------------------------------------------------------- rules
@rule(
    id="content.thin",
    category="content",
    severity="warning",
    scope="page",
    title="Thin content",
    applies_to="indexable",
    options=(
        Option("min_words", MIN_WORDS, "Fewest words of visible main text for a page not to be thin",
               source="Screaming Frog 'Low Content Pages' default (200 words)"),
    ),
)
def thin(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Indexable pages whose visible main text (navigation, header and footer excluded) has fewer
    than `min_words` words (200).

    ## Why it matters
    Pages with little unique text rarely answer a query well; many of them dilute a site's
    perceived quality and waste crawl budget.

    ## Example
    ```html
    <main><h1>Boots</h1><p>Buy boots.</p></main>                             <!-- bad: 3 words -->
    <main><h1>Boots</h1><p>(a description, sizing advice, reviews…)</p></main>  <!-- good -->
    ```

    ## How to fix
    Add useful content (descriptions, guidance, answers to common questions), merge thin pages
    into a stronger one, or `noindex` pages that exist only for navigation.

    ## Options
    - `min_words` (default 200): pages with fewer words are reported.

    ## References
    - Google Search Central, "Creating helpful, reliable, people-first content":
      https://developers.google.com/search/docs/fundamentals/creating-helpful-content
    """
    words = page.facts.word_count
    if words < opts.min_words:
        yield page.finding(f"Main text is {words} words (min {opts.min_words})", observed=words,
                           threshold=opts.min_words)


@rule(
    id="content.exact_duplicate",
    category="content",
    severity="warning",
    scope="site",
    title="Exact duplicate content",
    applies_to="indexable",
)
def exact_duplicate(site: SiteView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Indexable pages whose main text is identical (same hash of the normalised visible text). Each
    page of a group is reported, with the others listed.

    ## Why it matters
    Search engines index one version and filter the others out of results; which one is their
    choice, and links and signals are split across the copies.

    ## Example
    ```text
    /boots?sort=price and /boots?sort=name show the same text, both indexable   (bad)
    /boots?sort=price has <link rel="canonical" href="https://example.com/boots">  (good)
    ```

    ## How to fix
    Keep one URL per content: 301-redirect or canonicalise the copies to it, or make each page's
    content distinct.

    ## Options
    None.

    ## References
    - Google Search Central, "What is URL canonicalization":
      https://developers.google.com/search/docs/crawling-indexing/canonicalization
    """
    for ids in site.store.duplicate_groups("content"):
        yield from group_findings(site, ids, f"Main text is identical on {len(ids)} indexable pages",
                                  observed=len(ids))


@rule(
    id="content.near_duplicate",
    category="content",
    severity="notice",
    scope="site",
    title="Near-duplicate content",
    applies_to="indexable",
    options=(
        Option("min_similarity", MIN_SIMILARITY, "Similarity (0-1) of the main text from which pages are near-duplicates",
               source="Screaming Frog near-duplicate threshold default (90 %)"),
    ),
)
def near_duplicate(site: SiteView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    Indexable pages whose main text is at least `min_similarity` (90 %) similar to another
    indexable page's, without being identical (those are `content.exact_duplicate`). Similarity
    is 1 − (differing bits ÷ 64) between the pages' 64-bit simhashes, so 90 % means at most 6
    differing bits. Each page is reported with its most similar pages.

    ## Why it matters
    Pages that differ only by a few words (city pages, product variants, tag archives) compete for
    the same queries; search engines pick one and may treat the rest as low-value duplicates.

    ## Example
    ```text
    /plumber-paris and /plumber-lyon: same 600 words, only the city name changes   (bad)
    each city page has its own team, prices, reviews and directions                 (good)
    ```

    ## How to fix
    Make each page substantially unique, or consolidate the variants into one page (canonical or
    301 redirect) and keep the variations as sections or filters.

    ## Options
    - `min_similarity` (default 0.9): similarity from which two pages are reported.

    ## References
    - Google Search Central, "What is URL canonicalization":
      https://developers.google.com/search/docs/crawling-indexing/canonicalization
    - M. Charikar, "Similarity estimation techniques from rounding algorithms" (STOC 2002);
      G. S. Manku, A. Jain, A. Das Sarma, "Detecting near-duplicates for web crawling" (WWW 2007).
    """
    rows = site.store.iter_simhashes(indexable_only=True)
    for page_id, count, others in near_duplicates(rows, opts.min_similarity):
        records = site.store.get_many([page_id, *(pid for pid, _ in others)])
        if page_id not in records:
            continue
        listed = [{"url": records[pid].url, "similarity": sim} for pid, sim in others if pid in records]
        best = max((o["similarity"] for o in listed), default=0.0)
        yield site.finding(
            records[page_id].url,
            f"Main text is {best:.0%} similar to {count} other indexable page(s) (min {opts.min_similarity:.0%})",
            observed=best, threshold=opts.min_similarity, count=count, others=listed,
        )


@rule(
    id="content.lang_missing",
    category="content",
    severity="notice",
    scope="page",
    title="Document language missing",
    applies_to="html",
)
def lang_missing(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    HTML pages whose `<html>` element has no (or an empty) `lang` attribute.

    ## Why it matters
    Screen readers use it to pick pronunciation, browsers to offer translation and hyphenate;
    it is also a hint (among others) of the page's language for search engines.

    ## Example
    ```html
    <html>              <!-- bad -->
    <html lang="fr-FR"> <!-- good -->
    ```

    ## How to fix
    Set `lang` on `<html>` to the page's BCP 47 language tag (`en`, `fr`, `pt-BR`).

    ## Options
    None.

    ## References
    - W3C WCAG 2.2, Success Criterion 3.1.1 "Language of Page":
      https://www.w3.org/WAI/WCAG22/Understanding/language-of-page
    """
    if not (page.facts.html_lang or "").strip():
        yield page.finding("<html> has no lang attribute" if page.facts.html_lang is None else "<html lang> is empty")


@rule(
    id="content.viewport_missing",
    category="content",
    severity="warning",
    scope="page",
    title="Meta viewport missing",
    applies_to="html",
)
def viewport_missing(page: PageView, opts: Options) -> Iterator[Finding]:
    """## What it checks
    HTML pages without a `<meta name="viewport">` (or with an empty one).

    ## Why it matters
    Without it, mobile browsers render the page at desktop width and shrink it: text is tiny and
    the page fails mobile-friendliness, which matters since Google indexes the mobile version.

    ## Example
    ```html
    <head><title>Boots</title></head>                                                      <!-- bad -->
    <head><meta name="viewport" content="width=device-width, initial-scale=1"></head>       <!-- good -->
    ```

    ## How to fix
    Add `<meta name="viewport" content="width=device-width, initial-scale=1">` to the template
    and make the layout responsive.

    ## Options
    None.

    ## References
    - web.dev, "Does not have a meta viewport tag":
      https://developer.chrome.com/docs/lighthouse/pwa/viewport
    - Google Search Central, "Mobile site and mobile-first indexing best practices":
      https://developers.google.com/search/docs/crawling-indexing/mobile/mobile-sites-mobile-first-indexing
    """
    viewport = page.facts.viewport
    if viewport is None:
        yield page.finding("No meta viewport")
    elif not viewport.strip():
        yield page.finding("Meta viewport is empty")


RULES = (thin, exact_duplicate, near_duplicate, lang_missing, viewport_missing)
