"""Content rules: thin pages, exact and near duplicates (LSH over simhashes), lang, viewport."""

from __future__ import annotations

import random
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st
from rulekit import U, bad_good_tests, doc, page, site_from_pages, sites

from emaudit.rules.content import block_masks, lsh_plan, max_distance, near_duplicate_pairs, near_duplicates

VOCABULARY = [f"word{i}" for i in range(500)]
VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def text(seed: int, words: int = 300) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(VOCABULARY) for _ in range(words))


def article(body: str, title: str = "A descriptive page title for the tests") -> str:
    return doc(title, body=f"<main><p>{body}</p></main>")


BASE = text(1)
NEAR = BASE.replace(BASE.split()[10], "changed", 1)

FIXTURES = {
    "content.thin": (page(article(text(3, 50))), page(article(text(3, 250)))),
    "content.exact_duplicate": (
        sites(U("/", article(BASE, "One")), U("/b", article(BASE, "Two"))),
        sites(U("/", article(BASE, "One")), U("/b", article(text(2), "Two"))),
    ),
    "content.near_duplicate": (
        sites(U("/", article(BASE)), U("/b", article(NEAR))),
        sites(U("/", article(BASE)), U("/b", article(text(2)))),
    ),
    "content.lang_missing": (page(doc(lang=None)), page(doc(lang="fr-FR"))),
    "content.viewport_missing": (page(doc()), page(doc(head=VIEWPORT))),
}
test_bad_fixture_fires, test_good_fixture_passes = bad_good_tests(FIXTURES)


def test_thin_counts_main_text_words_only() -> None:
    nav = "<nav>" + " ".join(f"<a href='/{i}'>menu entry {i}</a>" for i in range(100)) + "</nav>"
    (finding,) = page(doc(body=nav + f"<main><p>{text(4, 120)}</p></main>")).run("content.thin")
    assert finding.message == "Main text is 120 words (min 200)"
    assert page(article(text(4, 120))).build().run("content.thin", "/", min_words=100) == []


def test_exact_duplicates_are_not_near_duplicates() -> None:
    site = FIXTURES["content.exact_duplicate"][0].build()
    assert site.run("content.near_duplicate") == []
    assert {f.details["count"] for f in site.run("content.exact_duplicate")} == {2}


def test_near_duplicate_details() -> None:
    site = site_from_pages([U("/", article(BASE)), U("/b", article(NEAR)), U("/c", article(text(2))),
                            U("/d", article(NEAR, "Copy of b"))])
    findings = {f.url: f for f in site.run("content.near_duplicate")}
    assert set(findings) == {"https://example.com/", "https://example.com/b", "https://example.com/d"}
    home = findings["https://example.com/"]
    assert home.details["count"] == 2 and home.details["threshold"] == 0.9
    assert {o["url"] for o in home.details["others"]} == {"https://example.com/b", "https://example.com/d"}
    assert 0.9 <= home.details["observed"] < 1.0
    assert [o["url"] for o in findings["https://example.com/b"].details["others"]] == ["https://example.com/"]


def test_near_duplicate_threshold_is_an_option() -> None:
    site = FIXTURES["content.near_duplicate"][0].build()
    assert site.run("content.near_duplicate", min_similarity=1.0) == []


def test_max_distance() -> None:
    assert [max_distance(s) for s in (1.0, 0.95, 0.9, 0.8, 0.0)] == [0, 3, 6, 12, 64]


def test_block_masks_partition_the_hash() -> None:
    for blocks in (1, 4, 7, 8, 64):
        masks = block_masks(blocks)
        assert len(masks) == blocks and sum(masks) == (1 << 64) - 1
        assert all(a & b == 0 for a, b in combinations(masks, 2))


def test_plan_for_ninety_percent_uses_16_bit_keys() -> None:
    masks, shared = lsh_plan(6)
    assert len(masks) == 8 and shared == 2 and all(m.bit_count() == 8 for m in masks)


def _brute(hashes: list[int], max_bits: int) -> set[tuple[int, int, int]]:
    return {(i, j, (hashes[i] ^ hashes[j]).bit_count()) for i, j in combinations(range(len(hashes)), 2)
            if (hashes[i] ^ hashes[j]).bit_count() <= max_bits}


@st.composite
def clustered_hashes(draw: st.DrawFn) -> list[int]:
    """Distinct 64-bit hashes, many of them a few bit flips away from each other."""
    seeds = draw(st.lists(st.integers(0, (1 << 64) - 1), min_size=1, max_size=6))
    out = list(seeds)
    for seed in seeds:
        for flips in draw(st.lists(st.lists(st.integers(0, 63), max_size=9), max_size=6)):
            value = seed
            for bit in flips:
                value ^= 1 << bit
            out.append(value)
    return list(dict.fromkeys(out))


@settings(max_examples=150, deadline=None)
@given(clustered_hashes(), st.integers(0, 10))
def test_lsh_finds_exactly_the_pairs_brute_force_finds(hashes: list[int], max_bits: int) -> None:
    found = list(near_duplicate_pairs(hashes, max_bits))
    assert len(found) == len(set(found))  # each pair once
    assert {(min(i, j), max(i, j), d) for i, j, d in found} == _brute(hashes, max_bits)


def test_large_clusters_take_the_bitset_path_and_stay_exact() -> None:
    rng = random.Random(5)
    center = rng.getrandbits(64)
    hashes = [center]
    for _ in range(400):
        value = center
        for bit in rng.sample(range(64), rng.randint(1, 4)):
            value ^= 1 << bit
        hashes.append(value)
    hashes = list(dict.fromkeys(hashes + [rng.getrandbits(64) for _ in range(200)]))
    found = list(near_duplicate_pairs(hashes, 6))
    assert len(found) == len(set(found))
    assert {(min(i, j), max(i, j), d) for i, j, d in found} == _brute(hashes, 6)


def test_identical_texts_collapse_and_other_texts_still_count() -> None:
    # 50 copies of one text (one simhash), one near text, one unrelated.
    rows = [(i, 0b1011, "same") for i in range(50)] + [(100, 0b1011 ^ 0b110, "near"), (200, 0xFFFF_FFFF_0000_0000, "x")]
    results = {pid: (count, others) for pid, count, others in near_duplicates(rows, 0.9)}
    assert set(results) == {*range(50), 100}
    assert results[100][0] == 50 and len(results[100][1]) == 20
    assert results[0] == (1, [(100, round(1 - 2 / 64, 4))])


def test_pages_without_content_hash_are_still_compared() -> None:
    rows = [(1, 5, None), (2, 5, "a"), (3, 5, None)]
    results = {pid: (count, [o for o, _ in others]) for pid, count, others in near_duplicates(rows, 0.9)}
    assert results == {1: (1, [2]), 3: (1, [2]), 2: (2, [1, 3])}


def test_signed_simhashes_are_compared_as_64_bit_values() -> None:
    rows = [(1, -1, "a"), (2, (1 << 64) - 2, "b")]  # -1 is all ones: one bit away from the other
    assert [(pid, count) for pid, count, _ in near_duplicates(rows, 0.9)] == [(1, 1), (2, 1)]


def test_lang_and_viewport_messages() -> None:
    assert page(doc(lang="")).run("content.lang_missing")
    assert page(doc(lang=None)).run("content.lang_missing")[0].message == "<html> has no lang attribute"
    assert page(doc(head='<meta name="viewport" content="">')).run("content.viewport_missing")[0].message == (
        "Meta viewport is empty")
