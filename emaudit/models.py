"""Data model shared by the extractor, the store, the crawler and the rules.

``PageFacts`` is what one HTML page boils down to (parsed once, by :mod:`emaudit.extract`).
Its scalar/list facts are stored as one JSON document per page; its outgoing references
(``links``, ``images``, ``scripts``, ``stylesheets`` …) are stored as rows of the store's
``links`` table (kind = a, img, script, css, canonical, hreflang, …) so that site rules can
query them with SQL.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# Link kinds stored in the ``links`` table.
LINK_A = "a"
LINK_IMG = "img"
LINK_SCRIPT = "script"
LINK_CSS = "css"
LINK_CANONICAL = "canonical"
LINK_HREFLANG = "hreflang"
LINK_REDIRECT = "redirect"
LINK_SITEMAP = "sitemap"
LINK_REFRESH = "refresh"
LINK_NEXT = "next"
LINK_PREV = "prev"
LINK_FORM = "form"
LINK_IFRAME = "iframe"

RESOURCE_KINDS = frozenset({LINK_IMG, LINK_SCRIPT, LINK_CSS})
# Targets the crawler always records in the store's urls table (queued, skipped, external …):
# a link row of one of these kinds finds its URL there. Resources are recorded only when the
# crawl checks them (--resources); other kinds (iframe, form …) never are.
FOLLOWED_KINDS = frozenset({LINK_A, LINK_CANONICAL, LINK_HREFLANG, LINK_REFRESH, LINK_NEXT, LINK_PREV})


@dataclass(slots=True)
class Ref:
    """One outgoing reference found in a page.

    ``url`` is the absolute, normalised http(s) URL, or the raw value for other schemes
    (``mailto:…``, ``tel:…``), or ``None`` when it cannot be resolved at all
    (``javascript:…``, empty ``href``, no ``href``).
    """

    kind: str
    url: str | None
    raw: str | None = None  # the attribute as written (None: attribute absent)
    anchor: str = ""  # <a>: visible text; img: alt; hreflang: the language code
    rel: str = ""  # rel attribute, lower-cased, space-separated
    nofollow: bool = False
    alt: str | None = None  # <a>: alt of images inside the link; <img>: alt (None = no attribute)
    extra: dict[str, Any] | None = None  # kind-specific: width/height, async/defer, aria_label, onclick, source

    def to_row(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(slots=True)
class PageFacts:
    """Everything the audit needs from one HTML document."""

    # Decoding
    encoding: str = "utf-8"
    encoding_source: str = "default"  # header | bom | meta | detected | default
    decode_errors: bool = False  # bytes that could not be decoded were replaced
    # Head
    titles: list[str] = field(default_factory=list)
    meta_descriptions: list[str] = field(default_factory=list)
    # robots directives per user agent ("robots" = generic, "googlebot", "bingbot", …),
    # each a list of lower-cased directives such as "noindex", "nofollow", "max-snippet:50".
    meta_robots: dict[str, list[str]] = field(default_factory=dict)
    x_robots_tag: dict[str, list[str]] = field(default_factory=dict)
    canonicals: list[dict[str, Any]] = field(default_factory=list)  # {raw, url, source: link|header}
    hreflangs: list[dict[str, Any]] = field(default_factory=list)  # {lang, raw, url, source: link|header}
    html_lang: str | None = None
    viewport: str | None = None
    charset_meta: str | None = None
    meta_refresh: dict[str, Any] | None = None  # {delay: float|None, raw, url}
    base_href: str | None = None
    rel_next: str | None = None
    rel_prev: str | None = None
    opengraph: dict[str, str] = field(default_factory=dict)  # og:title → value
    twitter: dict[str, str] = field(default_factory=dict)  # twitter:card → value
    # Body
    headings: list[tuple[int, str]] = field(default_factory=list)  # (level, text), document order
    word_count: int = 0
    content_hash: str | None = None  # sha1 of the normalised visible main text (None: no text)
    simhash: int | None = None  # 64-bit simhash of the main text's word shingles (signed int64)
    jsonld: list[dict[str, Any]] = field(default_factory=list)  # {types: [...], data: ..., error: str|None}
    microdata_types: list[str] = field(default_factory=list)
    forms: list[dict[str, Any]] = field(default_factory=list)  # {raw, url, method}
    tracking: list[dict[str, str]] = field(default_factory=list)  # {vendor, id}
    cmps: list[str] = field(default_factory=list)  # consent-management platforms
    mixed_content: list[str] = field(default_factory=list)  # http:// sub-resources on an https page
    iframes: int = 0
    # Outgoing references (stored in the links table, not in the facts JSON)
    refs: list[Ref] = field(default_factory=list)
    refs_truncated: bool = False  # the page had more references than extract.MAX_REFS kept

    # ---------------------------------------------------------------- helpers
    def to_json_dict(self) -> dict[str, Any]:
        """The facts stored as JSON (without ``refs``)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "refs"}
        return data

    @classmethod
    def from_json_dict(cls, data: dict[str, Any], refs: list[Ref] | None = None) -> PageFacts:
        known = _FACT_FIELDS
        kwargs = {k: v for k, v in data.items() if k in known}
        if "headings" in kwargs:
            kwargs["headings"] = [tuple(h) for h in kwargs["headings"]]
        facts = cls(**kwargs)
        facts.refs = refs or []
        return facts

    @property
    def title(self) -> str | None:
        return self.titles[0] if self.titles else None

    @property
    def meta_description(self) -> str | None:
        return self.meta_descriptions[0] if self.meta_descriptions else None

    @property
    def h1s(self) -> list[str]:
        return [text for level, text in self.headings if level == 1]

    def robots_directives(self, bot: str = "googlebot") -> set[str]:
        """Directives that apply to ``bot``: generic ones plus bot-specific ones, meta and header."""
        out: set[str] = set()
        for source in (self.meta_robots, self.x_robots_tag):
            for agent in ("robots", "*", bot):
                out.update(d.split(":", 1)[0].strip() for d in source.get(agent, ()))
        if "none" in out:
            out.update(("noindex", "nofollow"))
        return out

    @property
    def noindex(self) -> bool:
        return "noindex" in self.robots_directives()

    @property
    def nofollow(self) -> bool:
        return "nofollow" in self.robots_directives()


# Fields read back from the stored JSON (computed once: from_json_dict runs for every page audited).
_FACT_FIELDS = frozenset(f.name for f in dataclasses.fields(PageFacts)) - {"refs"}
