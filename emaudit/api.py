"""What rule authors use: the ``rule`` decorator, ``Option``, ``Finding``, ``PageView``, ``SiteView``.

This module is the contract of ``docs/rule-api.md``; rule modules import nothing else from
emaudit. It stays light (no SQLite, no HTML parser, no rich) because ``emaudit rules`` imports
every rule module and must answer in a blink.

The engine (:mod:`emaudit.audit`) builds one :class:`PageView` per audited URL and binds it to
each rule in turn before calling the rule, so ``page.finding(...)`` knows the rule id, the
effective severity (after configuration) and the category without the rule repeating them.
Beyond the contract: :func:`evaluate` runs one rule on one view (rule tests), and
:meth:`PageView.memo` shares a value derived from a page between the rules run on it.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # the store is only needed by the engine, not to declare rules
    from emaudit.models import PageFacts, Ref
    from emaudit.store import PageRecord, Store, Target, UrlRecord

__all__ = [
    "APPLIES_TO",
    "CATEGORIES",
    "SCOPES",
    "SEVERITIES",
    "Finding",
    "Option",
    "Options",
    "PageView",
    "RuleSpec",
    "SiteView",
    "evaluate",
    "fingerprint",
    "rule",
]

SEVERITIES = ("error", "warning", "notice")  # most to least severe
SCOPES = ("page", "site")
CATEGORIES = (
    "indexability",
    "content",
    "links",
    "international",
    "structured_data",
    "performance",
    "security",
    "tracking",
)
# Units a rule is evaluated (and scored) on. Page rules: the first four, each a subset of the
# previous one. Site rules: the same names (the unit count is the denominator) or "site".
PAGE_UNITS = ("url", "page", "html", "indexable")
APPLIES_TO = {"page": PAGE_UNITS, "site": (*PAGE_UNITS, "site")}
DEFAULT_APPLIES_TO = {"page": "html", "site": "site"}
REQUIRED_DOC_SECTIONS = ("What it checks", "Why it matters", "How to fix")

RULE_ATTRIBUTE = "__emaudit_rule__"
_NO_TARGETS: Mapping[str, Any] = MappingProxyType({})
T = TypeVar("T")
_HEADING = re.compile(r"^##\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True, slots=True)
class Option:
    """A rule option: its default and where that default comes from (a tool, a guideline, a study)."""

    name: str
    default: Any
    description: str
    source: str = ""


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """Everything known about a rule before it runs (attached to its function by :func:`rule`)."""

    id: str
    group: str
    category: str
    severity: str
    scope: str
    title: str
    applies_to: str
    options: tuple[Option, ...]
    doc: Mapping[str, str]  # section heading → Markdown body, in docstring order
    func: Callable[..., Iterator[Finding]]

    @property
    def module(self) -> str:
        return getattr(self.func, "__module__", "?")

    def defaults(self) -> dict[str, Any]:
        return {o.name: o.default for o in self.options}


def parse_doc(docstring: str | None) -> dict[str, str]:
    """Split a rule docstring into its ``## `` sections (heading → Markdown body)."""
    sections: dict[str, str] = {}
    heading: str | None = None
    lines: list[str] = []
    for line in inspect.cleandoc(docstring or "").splitlines():
        match = _HEADING.match(line)
        if match:
            if heading is not None:
                sections[heading] = "\n".join(lines).strip()
            heading, lines = match.group(1), []
        elif heading is not None:
            lines.append(line)
    if heading is not None:
        sections[heading] = "\n".join(lines).strip()
    return sections


def rule(
    *,
    id: str,
    category: str,
    severity: str,
    scope: str,
    title: str,
    applies_to: str | None = None,
    options: tuple[Option, ...] | list[Option] = (),
) -> Callable[[Callable[..., Iterator[Finding]]], Callable[..., Iterator[Finding]]]:
    """Declare a rule. The function is returned unchanged, with a frozen :class:`RuleSpec` attached.

    Validation happens in :mod:`emaudit.registry` at load time, where the culprit (module or
    entry point) can be named; the decorator only records what it was given.
    """

    def decorate(func: Callable[..., Iterator[Finding]]) -> Callable[..., Iterator[Finding]]:
        spec = RuleSpec(
            id=id,
            group=id.split(".", 1)[0],
            category=category,
            severity=severity,
            scope=scope,
            title=title,
            applies_to=applies_to if applies_to is not None else DEFAULT_APPLIES_TO.get(scope, "html"),
            options=tuple(options),
            doc=MappingProxyType(parse_doc(func.__doc__)),
            func=func,
        )
        setattr(func, RULE_ATTRIBUTE, spec)
        return func

    return decorate


def fingerprint(rule_id: str, url: str, target: str | None = None) -> str:
    """Stable identity of a finding across runs (what ``emaudit diff`` compares)."""
    text = f"{rule_id}\n{url}\n{target or ''}"
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@dataclass(slots=True)
class Finding:
    """One observed problem: what rule, on which URL, the fact with numbers, and structured details."""

    rule: str
    severity: str
    category: str
    url: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""

    def __post_init__(self) -> None:
        if not self.fingerprint:
            self.fingerprint = fingerprint(self.rule, self.url, self.details.get("target"))

    @property
    def target(self) -> str | None:
        target = self.details.get("target")
        return None if target is None else str(target)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "category": self.category,
            "url": self.url,
            "message": self.message,
            "details": self.details,
            "fingerprint": self.fingerprint,
        }


class Options:
    """Read-only option values of one rule (``opts.max_chars``), config overrides applied."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", MappingProxyType(dict(values)))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"rule has no option {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("rule options are read-only")

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def __repr__(self) -> str:
        return f"Options({dict(self._values)!r})"


@dataclass(frozen=True, slots=True)
class BoundRule:
    """The identity a finding is stamped with: rule id, effective severity, category."""

    id: str
    severity: str
    category: str


class _Bindable:
    """Shared by the views: the engine binds the running rule, ``finding()`` stamps it."""

    __slots__ = ("_bound",)

    def _bind(self, bound: BoundRule) -> None:
        self._bound = bound

    def _make(self, url: str, message: str, target: str | None, details: dict[str, Any]) -> Finding:
        bound = self._bound
        if target is not None:
            details["target"] = target
        return Finding(bound.id, bound.severity, bound.category, url, message, details,
                       fingerprint(bound.id, url, target))


class PageView(_Bindable):
    """Read-only view of one audited URL (an HTML page with its facts, or any other URL).

    Built by the engine from the store's rows; rules read attributes, never the network or store.
    """

    __slots__ = ("_facts", "_links", "_memo", "_page", "_sources", "_targets", "record", "start_url")

    def __init__(self, record: UrlRecord, page: PageRecord | None, start_url: str,
                 sources: Callable[[int, int, str], list[str]] | None = None) -> None:
        self.record = record
        self._page = page
        self.start_url = start_url
        self._sources = sources
        self._facts: PageFacts | None = page.facts if page is not None else None
        self._targets: dict[str, Target] = page.targets if page is not None else _NO_TARGETS
        self._links: list[Ref] | None = None
        self._memo: dict[Any, Any] | None = None

    def inlink_sources(self, limit: int = 10) -> list[str]:
        """URLs of internal pages linking here with ``<a>`` (first ``limit``, sorted).

        Read lazily from the crawl (only the few rules reporting errors ask for it).
        """
        return self._sources(self.record.id, limit, "a") if self._sources is not None and self.inlinks else []

    def referenced_by(self, kind: str, limit: int = 1000) -> list[str]:
        """URLs of crawled pages referencing this URL with ``kind`` ("hreflang", "canonical" …),
        sorted, at most ``limit``. Read lazily from the crawl: ask only when the answer matters."""
        return self._sources(self.record.id, limit, kind) if self._sources is not None else []

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """A value derived from this page, computed once and shared by every rule run on it.

        Several rules walk the same derived data (the distinct internal link targets, the
        normalised anchors …); on a 50,000-page audit recomputing it per rule costs seconds.
        ``key`` names the derivation (include any parameter it depends on).
        """
        if self._memo is None:
            self._memo = {}
        try:
            return self._memo[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self._memo[key] = compute()
            return value

    # ---- identity and crawl data (from the URL row)
    @property
    def url(self) -> str:
        return self.record.url

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def status(self) -> int | None:
        return self.record.status

    @property
    def kind(self) -> str:
        return self.record.kind

    @property
    def internal(self) -> bool:
        return self.record.internal

    @property
    def depth(self) -> int:
        return self.record.depth

    @property
    def inlinks(self) -> int:
        return self.record.inlinks

    @property
    def in_sitemap(self) -> bool:
        return self.record.in_sitemap

    @property
    def state(self) -> str:
        return self.record.state

    @property
    def blocked(self) -> bool:
        return self.record.state == "blocked"

    @property
    def skip_reason(self) -> str | None:
        return self.record.skip_reason

    @property
    def error_kind(self) -> str | None:
        return self.record.error_kind

    @property
    def error(self) -> str | None:
        return self.record.error

    @property
    def content_type(self) -> str | None:
        return self.record.content_type

    @property
    def headers(self) -> dict[str, str]:
        return self.record.headers

    @property
    def is_https(self) -> bool:
        return self.record.url.startswith("https:")

    # ---- page data (from the pages row; empty for non-HTML URLs)
    @property
    def is_html(self) -> bool:
        """Internal HTML page answering 200, with facts."""
        rec = self.record
        return self._page is not None and rec.status == 200 and rec.internal and rec.is_html

    @property
    def indexable(self) -> bool:
        return self.is_html and self._page.indexable  # type: ignore[union-attr]

    @property
    def noindex(self) -> bool:
        return self._page is not None and self._page.noindex

    @property
    def facts(self) -> PageFacts:
        if self._facts is None:
            from emaudit.models import PageFacts

            self._facts = PageFacts()
        return self._facts

    @property
    def refs(self) -> list[Ref]:
        return self.facts.refs

    @property
    def links(self) -> list[Ref]:
        if self._links is None:
            self._links = [r for r in self.facts.refs if r.kind == "a"]
        return self._links

    @property
    def canonical_url(self) -> str | None:
        return self._page.canonical_url if self._page is not None else None

    @property
    def canonical_id(self) -> int | None:
        return self._page.canonical_id if self._page is not None else None

    def target(self, url: str | None) -> Target | None:
        """What the crawl knows about a ref's target (None: unknown or not loaded)."""
        return self._targets.get(url) if url is not None else None  # hot: ~200 calls a page

    def finding(self, message: str, *, url: str | None = None, target: str | None = None,
                snippet: str | None = None, **details: Any) -> Finding:
        """A finding of the running rule, on this page unless ``url`` says otherwise."""
        if snippet is not None:
            details["snippet"] = snippet
        return self._make(url if url is not None else self.record.url, message, target, details)

    def __repr__(self) -> str:
        return f"PageView({self.record.url!r})"


class SiteView(_Bindable):
    """Read-only view of the whole crawl for site rules: query the store, do not hoard pages."""

    __slots__ = ("start_url", "store")

    def __init__(self, store: Store, start_url: str) -> None:
        self.store = store
        self.start_url = start_url

    def pages(self, indexable_only: bool = False) -> Iterator[PageView]:
        """Every HTML page (facts, no refs), in id order; streamed from the store."""
        for page in self.store.iter_pages(with_refs=False):
            view = PageView(page.url, page, self.start_url)
            if view.is_html and (view.indexable or not indexable_only):
                yield view

    def finding(self, url: str, message: str, *, target: str | None = None, **details: Any) -> Finding:
        return self._make(url, message, target, details)


def evaluate(func: Callable[..., Iterator[Finding]], view: PageView | SiteView, **options: Any) -> list[Finding]:
    """Run one rule on one view with its default options (overridden by ``options``).

    What rule tests and documentation examples use; the engine does the same per rule and unit.
    """
    spec: RuleSpec = getattr(func, RULE_ATTRIBUTE)
    unknown = set(options) - {o.name for o in spec.options}
    if unknown:
        raise TypeError(f"rule {spec.id} has no option(s) {', '.join(sorted(unknown))}")
    view._bind(BoundRule(spec.id, spec.severity, spec.category))
    return list(func(view, Options({**spec.defaults(), **options})))
