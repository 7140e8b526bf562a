"""Escaping of page-derived text for every output that interprets characters.

Titles, URLs, anchors and messages come from the audited site, i.e. from strangers. Without
escaping, a title such as ``[bold red]x[/]`` would restyle the terminal report, ``\\x1b]8;;…``
would plant a hyperlink, ``=HYPERLINK(…)`` would run in a spreadsheet and ``</td><script>``
would run in the HTML report. Each renderer passes such text through one function here;
the HTML report reuses :func:`html_text`.
"""

from __future__ import annotations

import html
import re

# ANSI/VT escape sequences: CSI (ESC [ … final), OSC (ESC ] … BEL or ST), and two-byte ESC forms.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])|\x9b[0-?]*[ -/]*[@-~]")
# C0 and C1 controls (incl. DEL) and bidirectional overrides ("Trojan Source" reordering).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_WHITESPACE_CONTROL = re.compile(r"[\t\n\r\x0b\x0c]+")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~#!])")
_SAFE_URL = re.compile(r"^https?://[^\s<>`|\[\]\\\x00-\x1f\x7f]+$")
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
REPLACEMENT = "\ufffd"
# Left raw by json.dumps(ensure_ascii=False) and csv: DEL, C1 (U+009B is a one-character CSI for
# some terminals), bidi overrides; line/paragraph separators break JavaScript consumers.
_JSON_RAW = re.compile(r"[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_CSV_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def plain(text: object) -> str:
    """One printable line: escape sequences removed, line breaks → space, other controls → �."""
    value = _ANSI.sub("", str(text))
    value = _WHITESPACE_CONTROL.sub(" ", value)
    return _CONTROL.sub(REPLACEMENT, value)


def terminal(text: object) -> str:
    """Text for rich markup strings: printable, and ``[…]`` shown literally, never as a style."""
    from rich.markup import escape  # lazy: the machine formats never need rich

    return escape(plain(text))


def markdown_text(text: object) -> str:
    """Text for a Markdown paragraph or table cell: no markup, no HTML, no line break."""
    value = html.escape(plain(text), quote=False)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", value)


def markdown_url(url: object) -> str:
    """A URL as a Markdown autolink when it is plainly safe, else as escaped text."""
    value = plain(url)
    if _SAFE_URL.match(value):
        return f"<{value}>"
    return markdown_text(value)


def json_text(text: str) -> str:
    """JSON text (from json.dumps) with the characters above written as ``\\uXXXX`` escapes."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def csv_cell(value: object) -> str:
    """A spreadsheet cell that cannot start a formula (OWASP CSV injection: prefix with ')
    and holds no escape sequence or control character (tabs and line breaks are kept: csv quotes them)."""
    text = "" if value is None else _CSV_CONTROL.sub(REPLACEMENT, _ANSI.sub("", str(value)))
    if text.startswith(CSV_TRIGGERS):
        return "'" + text
    return text


def html_text(text: object) -> str:
    """Text for HTML element content or a quoted attribute."""
    return html.escape(plain(text), quote=True)
