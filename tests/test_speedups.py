"""emaudit._speedups: the C main-text digest gives exactly what the Python digest gives.

Stored fingerprints (word count, content hash, simhash) are compared across crawls, maybe made
on machines with and without a C compiler: the two digests must agree on every text.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import sysconfig
from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emaudit import extract as extract_module
from emaudit.extract import _TextDigest, extract, simhash64

needs_c = pytest.mark.skipif(extract_module._speedups is None, reason="emaudit._speedups not built (no C compiler)")


def compiler_available() -> bool:
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc) is not None


def test_speedups_are_built_where_a_compiler_is_available():
    """An install on a machine with a compiler must not silently fall back to the slower digest."""
    if not compiler_available():
        pytest.skip("no C compiler: the pure-Python digest is the expected path")
    assert importlib.util.find_spec("emaudit._speedups") is not None
    assert extract_module._speedups is not None


def digest(slices: list[str], *, c: bool) -> tuple[int, str | None, int | None]:
    with pytest.MonkeyPatch.context() as patch:
        if not c:
            patch.setattr(extract_module, "_speedups", None)
        d = _TextDigest()
        for piece in slices:
            d.feed(piece)
        return d.word_count, d.content_hash(), d.simhash()


# Letters of several scripts, digits of several systems, combining marks, "_", punctuation,
# every kind of Unicode whitespace str.split() knows, and characters that are neither.
ALPHABET = st.sampled_from(
    list("abcxyz019_éèàçœßøłžñ") + list("αβγабвжא日本語한글١٢٣௧") + ["\u0301", "\u0308", "\u00b2", "\u2167", "\u00bd"]
    + list(" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
    + list("'’-.,;:!?«»()[]{}/@#€$%&*+=<>|~^`\"") + ["\u200b", "\u00ad", "\ufeff", "\U0001f600", "\U0001d400"]
)


@needs_c
@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(ALPHABET, max_size=60), min_size=1, max_size=5))
def test_c_and_python_digests_agree_on_any_text(slices):
    assert digest(slices, c=True) == digest(slices, c=False)


@needs_c
@pytest.mark.parametrize(
    "slices",
    [
        [""],
        ["   \n\t "],
        ["un"],
        ["un deux"],
        ["un deux trois"],
        ["un", "deux", "trois", "quatre"],  # shingles straddling slices: the carry
        ["— · — …", "l'été", "snake_case and_more", "x²+y² ≥ ½"],
        ["télécharger le guide d'achat : chaussures de randonnée légères " * 200],
        [" ".join(f"mot{i % 97} été" for i in range(5000))],
    ],
)
def test_c_and_python_digests_agree_on_known_texts(slices):
    c = digest(slices, c=True)
    assert c == digest(slices, c=False)
    words = [w for s in slices for w in extract_module._words(s.split())]
    assert c[0] == len(words)
    assert c[2] == simhash64(words)
    if words:
        assert c[1] == hashlib.sha1(" ".join(" ".join(s.split()) for s in slices if s.split()).encode()).hexdigest()


@needs_c
def test_text_with_lone_surrogates_is_digested_in_python():
    slices = ["avant \ud800 après", "fin du texte"]
    assert digest(slices, c=True) == digest(slices, c=False)


@needs_c
def test_word_key_cache_stays_bounded_and_long_words_are_not_cached():
    speedups = extract_module._speedups
    d = _TextDigest()
    for start in range(0, 40_000, 1000):  # more distinct words than the cache holds
        d.feed(" ".join(f"w{i}" for i in range(start, start + 1000)))
        assert speedups.cache_size() <= 16_384
    assert d.word_count == 40_000
    assert d.simhash() == simhash64([f"w{i}" for i in range(40_000)])
    before = speedups.cache_size()
    long_words = [("x" * 70) + str(i) for i in range(50)]
    d2 = _TextDigest()
    d2.feed(" ".join(long_words))
    assert speedups.cache_size() in (before, 0)  # none of the 50 long words went in (or a restart)
    assert d2.simhash() == simhash64(long_words)


@needs_c
def test_digest_slice_rejects_bad_arguments():
    digest_slice = extract_module._speedups.digest_slice
    votes = array("q", bytes(512))
    with pytest.raises(TypeError):
        digest_slice("text", b"", votes)
    with pytest.raises(TypeError):
        digest_slice(b"text", b"", votes, extract_module._word_key_bytes)
    with pytest.raises(ValueError, match="carry"):
        digest_slice("text", b"x" * 10, votes, extract_module._word_key_bytes)
    with pytest.raises(ValueError, match="votes"):
        digest_slice("text", b"", array("q", bytes(8)), extract_module._word_key_bytes)
    with pytest.raises(ValueError, match="24 bytes"):
        digest_slice("nouveaumot", b"", votes, lambda word: b"short")
    with pytest.raises(ZeroDivisionError):  # an error in the key function propagates
        digest_slice("autremot", b"", votes, lambda word: 1 / 0)
    assert list(votes) == [0] * 64  # failed calls added no votes


@needs_c
def test_page_facts_are_the_same_with_and_without_the_c_digest(monkeypatch):
    body = (
        "<html lang=fr><head><title>Chaussures</title></head><body><nav>Accueil Produits</nav><main>"
        + "".join(f"<p>Paragraphe {i} : randonnée, été &amp; l'hiver_{i % 7}…</p>" for i in range(400))
        + "</main><footer>Mentions légales</footer></body></html>"
    ).encode()
    with_c = extract(body, "https://example.com/")
    monkeypatch.setattr(extract_module, "_speedups", None)
    without = extract(body, "https://example.com/")
    assert with_c.word_count > 2000
    assert (with_c.word_count, with_c.content_hash, with_c.simhash) == (
        without.word_count,
        without.content_hash,
        without.simhash,
    )
