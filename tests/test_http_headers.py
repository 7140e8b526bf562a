"""Response headers kept in the store: every KEPT_HEADERS name present, repeats joined in order."""

from __future__ import annotations

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from emaudit.http import KEPT_HEADERS, _kept_headers

NAMES = st.sampled_from([*KEPT_HEADERS, "date", "connection", "set-cookie", "x-other"])
CASED = NAMES.flatmap(lambda n: st.sampled_from([n, n.upper(), n.title()]))
VALUES = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


def _reference(headers: httpx.Headers) -> dict[str, str]:
    """The definition: for each kept name in order, all its values (any case) joined."""
    out = {}
    for name in KEPT_HEADERS:
        values = headers.get_list(name)
        if values:
            out[name] = ", ".join(values)[:8192]
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(CASED, VALUES), max_size=30))
def test_kept_headers_match_their_definition(items):
    headers = httpx.Headers(items)
    kept = _kept_headers(headers)
    assert kept == _reference(headers)
    assert list(kept) == [n for n in KEPT_HEADERS if n in kept]  # stored JSON keeps a stable key order


def test_repeated_and_long_values():
    headers = httpx.Headers([("Link", "</a>; rel=canonical"), ("X-Robots-Tag", "noindex"), ("link", "</b>"),
                             ("Server", "x" * 9000), ("Vary", "")])
    assert _kept_headers(headers) == {"x-robots-tag": "noindex", "link": "</a>; rel=canonical, </b>",
                                      "vary": "", "server": "x" * 8192}
