"""robots.txt matcher: RFC 9309 cases, Protego as an oracle, Protego's deviations, validation.

The property tests generate rule sets and paths from an alphabet on which Protego follows
RFC 9309 (see the module docstring of :mod:`emaudit.robots` for where it does not) and require
the same decision. Each deviation then has an explicit test that pins both behaviours.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from protego import Protego

from emaudit.robots import (
    AI_CRAWLERS,
    MAX_BYTES,
    Decision,
    RobotsTxt,
    Rule,
    normalise_path,
    product_token,
    redirect_target,
    request_path,
    robots_url_for,
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def allowed(text: str | bytes, path: str, agent: str = "FooBot") -> bool:
    return RobotsTxt.parse(text).can_fetch(path, agent)


def protego_allowed(text: str, path: str, agent: str = "FooBot") -> bool:
    return Protego.parse(text).can_fetch(path, agent)


# --------------------------------------------------------------------------- RFC 9309 / Google cases

LONGEST = "User-agent: *\nAllow: /p\nDisallow: /\n"
GOOGLE_EXAMPLES = [
    # (robots.txt, path, allowed) — from RFC 9309 §2.2.2–2.2.3 and Google's robots.txt docs
    ("User-agent: *\nAllow: /p\nDisallow: /\n", "/page", True),
    ("User-agent: *\nAllow: /folder\nDisallow: /folder\n", "/folder/page", True),  # tie: Allow
    ("User-agent: *\nAllow: /page\nDisallow: /*.htm\n", "/page.htm", False),  # 6 < 7 octets
    ("User-agent: *\nAllow: /page\nDisallow: /*.ph\n", "/page.php5", True),  # tie: Allow
    ("User-agent: *\nAllow: /$\nDisallow: /\n", "/", True),
    ("User-agent: *\nAllow: /$\nDisallow: /\n", "/page.htm", False),
    ("User-agent: *\nDisallow: /fish\n", "/fish.html", False),
    ("User-agent: *\nDisallow: /fish\n", "/Fish.asp", True),  # paths are case-sensitive
    ("User-agent: *\nDisallow: /fish/\n", "/fish", True),
    ("User-agent: *\nDisallow: /*.php\n", "/folder/filename.php?parameters", False),
    ("User-agent: *\nDisallow: /*.php$\n", "/filename.php?parameters", True),
    ("User-agent: *\nDisallow: /*.php$\n", "/folder/filename.php", False),
    ("User-agent: *\nDisallow: /fish*.php\n", "/fishheads/catfish.php?parameters", False),
    ("User-agent: *\nDisallow: /fish*.php\n", "/Fish.PHP", True),
    ("User-agent: *\nDisallow: /*?\n", "/page?", False),  # an empty query still has its '?'
    ("User-agent: *\nDisallow: /*?\n", "/page", True),
    ("User-agent: *\nDisallow:\n", "/anything", True),  # empty Disallow allows all
    ("User-agent: *\nDisallow: /\n", "/robots.txt", True),  # always allowed
    ("User-agent: *\nDisallow: /\n", "http://example.com/robots.txt?x=1", True),
    ("User-agent: *\nDisallow: /**x\n", "/ax", False),  # repeated '*' is one wildcard
    ("User-agent: *\nDisallow: /a*b*c$\n", "/aXbYc", False),
    ("User-agent: *\nDisallow: /a*b*c$\n", "/aXbYcZ", True),
]


@pytest.mark.parametrize(("text", "path", "expected"), GOOGLE_EXAMPLES)
def test_rfc_and_google_examples(text: str, path: str, expected: bool) -> None:
    assert allowed(text, path) is expected


@pytest.mark.parametrize(
    ("rule", "path", "expected"),
    [
        ("/a%3cd", "/a%3Cd", False),  # escapes compare case-insensitively
        ("/a%3Cd", "/a<d", False),  # a character that must be escaped equals its escape
        ("/foo/bar/ツ", "/foo/bar/%E3%83%84", False),  # non-ASCII rule → UTF-8 escapes (RFC table)
        ("/foo/bar/%E3%83%84", "/foo/bar/ツ", False),
        ("/foo/bar/%62%61%7A", "/foo/bar/baz", False),  # unreserved escapes decode (RFC table)
        ("/a%2Fb", "/a/b", True),  # %2F is not '/'
        ("/a/b", "/a%2Fb", True),
        ("/a%2fb", "/a%2Fb", False),
        ("/a?b", "/a%3Fb", True),  # reserved characters and their escapes stay distinct
        ("/a%25zz", "/a%zz", False),  # a lone '%' is '%25'
        ("/a b", "/a%20b", False),
        ("/a%2A", "/a*", True),  # an escaped '*' is a literal '%2A', not a wildcard
        ("/a%2A", "/a%2a", False),
    ],
)
def test_percent_encoding_normalised_on_both_sides(rule: str, path: str, expected: bool) -> None:
    assert allowed(f"User-agent: *\nDisallow: {rule}\n", path) is expected


@pytest.mark.parametrize(
    ("agent_line", "crawler", "applies"),
    [
        ("FooBot", "FooBot", True),
        ("foobot", "FOOBOT", True),
        ("FooBot", "FooBot/2.1", True),
        ("FooBot", "Mozilla/5.0 (compatible; FooBot/2.1; +http://foo.example/bot)", True),
        ("FooBot", "FooBotNews", False),
        ("FooBot", "FooBot-News", False),
        ("FooBot/1.0", "FooBot", True),
        ("FooBot/1.0", "FooBot/9", True),
        ("Foo Bot", "Foo", True),
        ("googlebot-news", "Googlebot", False),
        ("Googlebot", "Googlebot-News", False),
        ("*foo", "foo", False),  # '*' is the wildcard only on its own
    ],
)
def test_product_token_matching(agent_line: str, crawler: str, applies: bool) -> None:
    text = f"User-agent: {agent_line}\nDisallow: /x\n"
    assert allowed(text, "/x", crawler) is not applies


def test_star_group_when_no_group_names_the_crawler() -> None:
    text = "User-agent: a\nDisallow: /a\n\nUser-agent: *\nDisallow: /star\n"
    robots = RobotsTxt.parse(text)
    assert robots.decide("/star", "zzz") == Decision(False, "Disallow: /star", 5, ("*",))
    assert robots.can_fetch("/star", "a") and not robots.can_fetch("/a", "a")
    assert RobotsTxt.parse("User-agent: a\nDisallow: /\n").can_fetch("/x", "b")  # no '*' group


def test_groups_for_the_same_agent_are_merged() -> None:
    text = "User-agent: a\nDisallow: /one\n\nUser-agent: b\nDisallow: /b\n\nUser-agent: A\nDisallow: /two\n"
    robots = RobotsTxt.parse(text)
    assert not robots.can_fetch("/one", "a") and not robots.can_fetch("/two", "a")
    assert robots.can_fetch("/b", "a")
    assert robots.decide("/zzz", "a").group_agents == ("a", "A")


def test_consecutive_user_agents_share_a_group_across_other_lines() -> None:
    text = (
        "User-agent: a\n# comment\n\nSitemap: https://e.example/s.xml\nHost: e.example\n"
        "Crawl-delay: 3\nTypo-directive: x\nUser-agent: b\nDisallow: /shared\n"
    )
    robots = RobotsTxt.parse(text)
    for agent in ("a", "b"):
        decision = robots.decide("/shared", agent)
        assert decision == Decision(False, "Disallow: /shared", 9, ("a", "b"))
    assert robots.crawl_delay("b") == 3.0
    assert robots.sitemaps == ["https://e.example/s.xml"]


def test_a_rule_line_ends_the_user_agent_run() -> None:
    text = "User-agent: a\nDisallow: /a\nUser-agent: b\nDisallow: /b\n"
    robots = RobotsTxt.parse(text)
    assert robots.can_fetch("/b", "a") and robots.can_fetch("/a", "b")


def test_rules_before_any_user_agent_are_ignored_and_reported() -> None:
    robots = RobotsTxt.parse("Disallow: /x\nUser-agent: *\nDisallow: /y\n")
    assert robots.can_fetch("/x", "a") and not robots.can_fetch("/y", "a")
    assert robots.validate().problems[0][:2] == (1, "Disallow before any User-agent line; ignored")


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_line_endings(eol: str) -> None:
    text = eol.join(["User-agent: a", "Disallow: /x # not part of the rule", "Allow: /x/y", ""])
    robots = RobotsTxt.parse(text)
    assert robots.decide("/x#frag", "a") == Decision(False, "Disallow: /x", 2, ("a",))
    assert robots.decide("/x/y", "a").line == 3


def test_directive_names_case_and_space_before_colon() -> None:
    robots = RobotsTxt.parse("USER-AGENT : a\ndisallow :/x\n  ALLOW:   /x/ok  \n")
    assert robots.decide("/x", "a") == Decision(False, "Disallow: /x", 2, ("a",))
    assert robots.decide("/x/ok", "a").rule == "Allow: /x/ok"


@pytest.mark.parametrize("body", [b"\xef\xbb\xbfUser-agent: *\nDisallow: /x\n", "\ufeffUser-agent: *\nDisallow: /x\n"])
def test_utf8_bom_is_ignored(body: bytes | str) -> None:
    robots = RobotsTxt.parse(body)
    assert not robots.can_fetch("/x", "a")
    assert robots.had_bom and any("byte-order mark" in n for n in robots.validate().rfc_notes)


def test_typos_and_missing_colons_are_reported_not_applied() -> None:
    text = "User-agent: *\nDissallow: /typo\nDisallow /nocolon\nUseragent: a\nDisalow: /t2\nDisalow2: /x\n"
    robots = RobotsTxt.parse(text)
    for path in ("/typo", "/nocolon", "/t2", "/x"):
        assert robots.can_fetch(path, "a")
    problems = {line: message for line, message, _ in robots.validate().problems}
    assert "Google reads it as 'Disallow'" in problems[2]
    assert "no ':'" in problems[3]
    assert "Google reads it as 'User-agent'" in problems[4]
    assert "unknown directive 'disalow2'" in problems[6]


def test_decision_reports_the_rule_as_written_with_canonical_name() -> None:
    robots = RobotsTxt.parse("user-agent: FooBot\ndisallow: /Fish*.php$\n")
    assert robots.decide("https://example.com/Fish/x.php", "FooBot") == Decision(
        False, "Disallow: /Fish*.php$", 2, ("FooBot",)
    )


def test_decisions_are_cached_per_token_and_path() -> None:
    robots = RobotsTxt.parse("User-agent: *\nDisallow: /x\n")
    first = robots.decide("/x", "Mozilla/5.0 (compatible; FooBot/1.0)")
    assert robots.decide("/x", "foobot") is first


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "googlebot"),
        ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Chrome/120.0 Safari/537.36", "googlebot"),
        ("emaudit/0.1.0 (+https://github.com/emaudit/emaudit)", "emaudit"),
        ("FooBot/1.0", "foobot"),
        ("GPTBot", "gptbot"),
        ("AI2Bot", "ai2bot"),
        ("Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)", "applebot"),
        ("*", "*"),
        ("  ", ""),
    ],
)
def test_product_token(header: str, token: str) -> None:
    assert product_token(header) == token


@pytest.mark.parametrize(
    ("given", "path"),
    [("https://e.example", "/"), ("https://e.example?x", "/?x"), ("http://e.example/a/b?c#d", "/a/b?c"),
     ("/a?", "/a?"), ("a", "/a"), ("//a", "//a")],
)
def test_request_path(given: str, path: str) -> None:
    assert request_path(given) == path


def test_robots_url_and_redirect_target() -> None:
    assert robots_url_for("HTTPS://WWW.Example.com:443/a/b?c") == "https://www.example.com/robots.txt"
    assert redirect_target("https://a.example/robots.txt", 301, "/r.txt") == "https://a.example/r.txt"
    assert redirect_target("https://a.example/robots.txt", 200, "/r.txt") is None
    assert redirect_target("https://a.example/robots.txt", 302, "ftp://x/y") is None


# --------------------------------------------------------------------------- HTTP outcomes (RFC 9309 §2.3.1)


@pytest.mark.parametrize(
    ("status", "mode", "can"),
    [(200, "rules", False), (204, "rules", True), (401, "allow_all", True), (403, "allow_all", True),
     (404, "allow_all", True), (410, "allow_all", True), (429, "disallow_all", False),
     (500, "disallow_all", False), (503, "disallow_all", False), (None, "disallow_all", False),
     (301, "allow_all", True)],
)
def test_status_modes(status: int | None, mode: str, can: bool) -> None:
    body = b"User-agent: *\nDisallow: /x\n" if status != 204 else b""
    robots = RobotsTxt.from_fetch("https://e.example/robots.txt", status, body, None if status else "connect refused")
    assert robots.mode == mode
    assert robots.can_fetch("/x", "a") is can
    assert robots.can_fetch("/robots.txt", "a")
    assert robots.rfc_notes() or mode == "rules"


def test_only_the_first_500_kib_are_parsed() -> None:
    head = b"User-agent: *\nDisallow: /early\n"
    cut = b"Disallow: /cut"  # the limit falls right after these bytes
    pad = MAX_BYTES - len(head) - len(cut)
    body = head + (b"#" * (pad - 1) + b"\n") + cut + b"-here\n" + b"Disallow: /late\n" * 1000
    robots = RobotsTxt.from_fetch("https://e.example/robots.txt", 200, body)
    assert robots.body_truncated
    assert not robots.can_fetch("/early", "a") and robots.can_fetch("/late", "a")
    assert robots.can_fetch("/cut", "a")  # the line the limit cut is dropped, not read as "/cut"
    assert any("500 KiB" in note for note in robots.rfc_notes())
    assert not RobotsTxt.from_fetch("u", 200, body[:MAX_BYTES]).body_truncated


def test_html_served_as_robots_txt_is_flagged() -> None:
    body = b"<!DOCTYPE html>\n<html><head><title>Home</title></head><body>Disallow: /x</body></html>\n"
    robots = RobotsTxt.from_fetch("https://e.example/robots.txt", 200, body)
    assert robots.looks_like_html and robots.mode == "rules"
    assert robots.can_fetch("/x", "a")
    assert any("HTML" in notice for notice in robots.validate().notices)


def test_invalid_utf8_is_replaced_and_noticed() -> None:
    robots = RobotsTxt.from_fetch("u", 200, b"User-agent: *\nDisallow: /caf\xe9\n")
    assert not robots.can_fetch("/caf%EF%BF%BD", "a")
    assert any("UTF-8" in n for n in robots.notices())


# --------------------------------------------------------------------------- crawl-delay, validate


def test_crawl_delay() -> None:
    text = ("User-agent: a\nCrawl-delay: 2\nDisallow:\n\nUser-agent: a\nCrawl-delay: 5\nAllow: /\n\n"
            "User-agent: *\nCrawl-delay: 1.5\nCrawl-delay: soon\n")
    robots = RobotsTxt.parse(text)
    assert robots.crawl_delay("a") == 5.0  # merged groups: the largest, the polite reading
    assert robots.crawl_delay("zzz") == 1.5
    assert RobotsTxt.from_fetch("u", 503, b"").crawl_delay("a") is None
    assert any("Crawl-delay value" in p[1] for p in robots.validate().problems)


VALIDATE_TEXT = """\
Sitemap: https://e.example/sitemap.xml
User-agent: GPTBot
User-agent: CCBot
Disallow: /

User-agent: ClaudeBot
Disallow: /private
Noindex: /x
Sitemap: /relative.xml

User-agent: Google-Extended
Disallow: /
Allow: /public

User-agent: *
Crawl-delay: 4
Disallow:
Disallow: cart
Clean-param: utm
User-agent: FooBot/2.0
"""


def test_validate_report() -> None:
    report = RobotsTxt.parse(VALIDATE_TEXT).validate()
    problems = {line: (message, text) for line, message, text in report.problems}
    assert problems[8][0].startswith("Noindex in robots.txt is not supported")
    assert problems[9][0].startswith("Sitemap value is not an absolute")
    assert problems[18][0].startswith("Disallow pattern does not start with '/'")
    assert problems[20] == ("User-agent value is not a bare product token; read as 'foobot'", "User-agent: FooBot/2.0")
    assert 19 not in problems and 17 not in problems  # Clean-param is a known extension
    assert report.groups[0] == (("GPTBot", "CCBot"), ["Disallow: /"], None)
    assert report.groups[3] == (("*",), ["Disallow: cart"], 4.0)
    assert report.sitemaps == ["https://e.example/sitemap.xml"]
    policy = {p.user_agent: p for p in report.ai_policy}
    assert (policy["GPTBot"].status, policy["GPTBot"].rule, policy["GPTBot"].line) == ("blocked", "Disallow: /", 4)
    assert policy["CCBot"].group == ("GPTBot", "CCBot")
    assert policy["ClaudeBot"].status == "partly blocked"
    assert policy["Google-Extended"].status == "partly blocked"
    assert policy["PerplexityBot"].status == "partly blocked" and policy["PerplexityBot"].group == ("*",)
    assert {p.purpose for p in report.ai_policy} == {"training", "retrieval"}
    assert len(report.ai_policy) == len(AI_CRAWLERS)
    doc = report.to_dict()
    line, message, text = report.problems[0]
    assert doc["problems"][0] == {"line": line, "message": message, "text": text}
    assert doc["groups"][0]["user_agents"] == ["GPTBot", "CCBot"]


def test_ai_policy_follows_the_status_mode() -> None:
    unreachable = RobotsTxt.from_fetch("u", 500, b"").validate()
    assert {p.status for p in unreachable.ai_policy} == {"blocked"}
    missing = RobotsTxt.from_fetch("u", 404, b"").validate()
    assert {p.status for p in missing.ai_policy} == {"allowed"}
    assert RobotsTxt.parse("User-agent: *\nAllow: /\n").validate().ai_policy[0].status == "allowed"


# --------------------------------------------------------------------------- Protego as an oracle

# On this alphabet Protego follows RFC 9309: no reserved characters but '/' and '=' (Protego
# equates the others with their escapes and counts them as 3 octets), no '$' in paths, no '%3D'.
PATH_ATOMS = list("abcAB019/-._~=é< ") + ["%61", "%3c", "%3C", "%2F", "%2f", "%C3%A9"]
AGENT_NAMES = ["*", "foobot", "FooBot", "barbot", "BARBOT"]
CRAWLERS = ["foobot", "barbot", "bazbot", "FOOBOT"]

# st.text is far cheaper to draw than lists of atoms: multi-character atoms get a placeholder
# letter each (P, Q, …) that is expanded after drawing.
_PLACEHOLDERS = {chr(ord("P") + i): atom for i, atom in enumerate(a for a in PATH_ATOMS if len(a) > 1)}
_EXPAND = str.maketrans(_PLACEHOLDERS)
_ALPHABET = "".join(a for a in PATH_ATOMS if len(a) == 1) + "".join(_PLACEHOLDERS)


def _atoms(max_size: int, extra: str = "") -> st.SearchStrategy[str]:
    return st.text(alphabet=_ALPHABET + extra, max_size=max_size).map(lambda text: text.translate(_EXPAND))


# Paths never start with "//", which Protego reads as an authority (deviation 9).
paths = _atoms(10).map(lambda body: "/" + body).filter(lambda path: not path.startswith("//"))
patterns = st.builds(
    lambda start, body, end: (start + body).strip() + end,
    st.sampled_from(["/", "/", "*"]),
    _atoms(8, extra="**"),
    st.sampled_from(["", "", "$"]),
)


# Strategies built once: constructing them inside the composite costs more than drawing.
_EOLS = st.sampled_from(["\n", "\r\n", "\r"])
_GROUP_COUNT = st.integers(1, 4)
_RULE_COUNT = st.integers(0, 5)
_AGENT_LINES = st.lists(st.sampled_from(AGENT_NAMES), min_size=1, max_size=2)
_KINDS = st.sampled_from(["Allow", "Disallow", "disallow", "ALLOW"])
_VALUES = st.one_of(patterns, st.just(""))
_COMMENTS = st.sampled_from(["", " # note"])
_FILLERS = st.sampled_from([[], [""], ["# comment"], ["Sitemap: https://e.example/s.xml"]])


@st.composite
def robots_texts(draw: st.DrawFn) -> str:
    eol = draw(_EOLS)
    lines: list[str] = []
    for _ in range(draw(_GROUP_COUNT)):
        lines.extend(f"User-agent: {agent}" for agent in draw(_AGENT_LINES))
        for _ in range(draw(_RULE_COUNT)):
            lines.append(f"{draw(_KINDS)}: {draw(_VALUES)}{draw(_COMMENTS)}")
        lines.extend(draw(_FILLERS))
    return eol.join(lines) + eol


@SETTINGS
@given(text=robots_texts(), path=paths, crawler=st.sampled_from(CRAWLERS))
def test_agrees_with_protego(text: str, path: str, crawler: str) -> None:
    assert allowed(text, path, crawler) is protego_allowed(text, path, crawler)


@SETTINGS
@given(text=robots_texts(), path=paths, crawler=st.sampled_from(CRAWLERS))
def test_a_path_and_its_normal_form_get_the_same_decision(text: str, path: str, crawler: str) -> None:
    robots = RobotsTxt.parse(text)
    assert robots.decide(path, crawler).allowed is robots.decide(normalise_path(path), crawler).allowed
    assert normalise_path(normalise_path(path)) == normalise_path(path)


def _regex_oracle(pattern: str, path: str) -> bool:
    """An independent, slow matcher: the pattern as an anchored regular expression."""
    anchored = pattern.endswith("$")
    body = normalise_path(pattern[:-1] if anchored else pattern)
    regex = ".*".join(re.escape(part) for part in body.split("*")) + (r"\Z" if anchored else "")
    return re.match(regex, normalise_path(path), re.DOTALL) is not None


ANY_ATOMS = PATH_ATOMS + list("?&;:@!$'()+,%[]*") + ["%3F", "%24", "%2A", "ツ"]


@SETTINGS
@given(
    pattern=st.lists(st.sampled_from(ANY_ATOMS), max_size=8).map(lambda a: "/" + "".join(a)),
    path=st.lists(st.sampled_from(ANY_ATOMS), max_size=12).map(lambda a: "/" + "".join(a)),
)
def test_glob_matcher_agrees_with_a_regex_oracle(pattern: str, path: str) -> None:
    rule = Rule.compile(False, pattern, 1, 0)
    assert rule.matches(normalise_path(path)) is _regex_oracle(pattern, path)


@SETTINGS
@given(text=robots_texts(), path=paths, crawler=st.sampled_from(CRAWLERS))
def test_segment_index_equals_a_linear_scan(text: str, path: str, crawler: str) -> None:
    robots = RobotsTxt.parse(text)
    target = normalise_path(path)
    index = robots._ruleset(product_token(crawler))
    first = next((rule for rule in index.rules if rule.matches(target)), None)
    assert robots.decide(path, crawler).line == (first.line if first else None)


@SETTINGS
@given(st.binary(max_size=2000) | st.text(max_size=2000))
def test_any_input_parses_and_answers(body: bytes | str) -> None:
    robots = RobotsTxt.parse(body)
    robots.decide("/a", "FooBot")
    robots.crawl_delay("FooBot")
    robots.validate().to_dict()


# --------------------------------------------------------------------------- Protego's deviations, pinned
# Each test states what Protego 0.7 does and what RFC 9309 (and so emaudit) does.


def test_deviation_product_token_is_matched_exactly() -> None:
    text = "User-agent: FooBot\nDisallow: /x\n\nUser-agent: bot\nDisallow: /y\n"
    assert not protego_allowed(text, "/x", "FooBotNews")  # Protego: a prefix at a token boundary
    assert allowed(text, "/x", "FooBotNews")
    assert not protego_allowed(text, "/y", "x.bot")
    assert allowed(text, "/y", "x.bot")


def test_deviation_version_suffix_on_the_user_agent_line() -> None:
    text = "User-agent: FooBot/1.0\nDisallow: /x\n"
    assert protego_allowed(text, "/x", "FooBot")  # Protego: the group is "foobot/1.0"
    assert not allowed(text, "/x", "FooBot")


@pytest.mark.parametrize("between", ["Unknown-field: x", "Crawl-delay: 5"])
def test_deviation_other_lines_do_not_end_the_user_agent_run(between: str) -> None:
    text = f"User-agent: a\n{between}\nUser-agent: b\nDisallow: /\n"
    assert protego_allowed(text, "/z", "a")  # Protego starts a new group at "User-agent: b"
    assert not allowed(text, "/z", "a")


@pytest.mark.parametrize("line", ["Dissallow: /t", "Disallow /t"])
def test_deviation_typos_and_missing_colon_are_not_applied(line: str) -> None:
    text = f"User-agent: *\n{line}\n"
    assert not protego_allowed(text, "/t")
    assert allowed(text, "/t")


def test_deviation_trailing_dollar_only_anchors() -> None:
    text = "User-agent: *\nDisallow: /a$\n"
    assert not protego_allowed(text, "/a$x")  # Protego also adds a literal "/a%24" rule
    assert allowed(text, "/a$x")
    assert not allowed(text, "/a") and allowed(text, "/ab")


def test_deviation_reserved_escapes_stay_distinct() -> None:
    text = "User-agent: *\nDisallow: /a?b\nDisallow: /c=d\n"
    assert not protego_allowed(text, "/a%3Fb") and not protego_allowed(text, "/c%3Dd")
    assert allowed(text, "/a%3Fb") and allowed(text, "/c%3Dd")


def test_deviation_lone_percent_is_an_escaped_percent() -> None:
    text = "User-agent: *\nDisallow: /a%25zz\n"
    assert protego_allowed(text, "/a%zz")
    assert not allowed(text, "/a%zz")


def test_deviation_match_length_counts_normalised_octets() -> None:
    text = "User-agent: *\nAllow: /;;\nDisallow: /*ab\n"
    assert protego_allowed(text, "/;;ab")  # Protego: "/%3B%3B" (7) beats "/*ab" (4)
    assert not allowed(text, "/;;ab")  # RFC 3986 form: "/;;" (3) loses to "/*ab" (4)


def test_deviation_index_html_does_not_allow_the_directory() -> None:
    text = "User-agent: *\nDisallow: /\nAllow: /x/index.html\n"
    assert protego_allowed(text, "/x/")
    assert not allowed(text, "/x/") and allowed(text, "/x/index.html")


def test_deviation_double_slash_path_is_a_path() -> None:
    text = "User-agent: *\nDisallow: //foo\n"
    assert protego_allowed(text, "//foo")  # Protego reads "//foo" as a host and tests "/"
    assert not allowed(text, "//foo")


@pytest.mark.parametrize("separator", ["\x0c", "\u2028", "\x85"])
def test_deviation_only_cr_and_lf_end_lines(separator: str) -> None:
    text = f"User-agent: *\nDisallow: /x{separator}Disallow: /t\n"
    assert not protego_allowed(text, "/t")  # Protego: str.splitlines() splits here
    assert allowed(text, "/t")


def test_deviation_bom_in_decoded_text() -> None:
    text = "\ufeffUser-agent: *\nDisallow: /t\n"
    assert protego_allowed(text, "/t")  # Protego: "\ufeffuser-agent" is an unknown directive
    assert not allowed(text, "/t")
