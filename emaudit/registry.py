"""Rule discovery and load-time validation.

Rules come from three places, all handled the same way:

- entry points of the group ``emaudit.rules`` (the built-in catalogue registers itself there as
  ``builtin = "emaudit.rules"``, flake8-style; third-party packages add their own). An entry
  point names a module (its ``RULES`` tuple is used) or a tuple/list of rules;
- when emaudit runs from a checkout without being installed, the built-in ``emaudit.rules``
  package is imported directly, so the catalogue never silently disappears;
- ``--rules PATH``: a ``.py`` file, or every ``.py`` file of a folder (names starting with ``_``
  excepted), each imported under a unique module name.

Every rule is validated when loaded (id format, unique id, category, severity, scope,
applies_to, documentation sections, option sources). A plugin that fails to import or declares
an invalid rule raises :class:`~emaudit.errors.PluginError` naming the plugin and the rule: a
broken plugin stops the run (exit 2) instead of quietly auditing less.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
import types
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emaudit.api import (
    APPLIES_TO,
    CATEGORIES,
    REQUIRED_DOC_SECTIONS,
    RULE_ATTRIBUTE,
    SCOPES,
    SEVERITIES,
    RuleSpec,
)
from emaudit.errors import PluginError

ENTRY_POINT_GROUP = "emaudit.rules"
BUILTIN_MODULE = "emaudit.rules"
ID_PATTERN = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
_OPTION_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Plugin:
    """Where rules come from: a name and a location, used in every error message."""

    name: str
    origin: str

    def error(self, problem: str) -> PluginError:
        return PluginError(f"rule plugin '{self.name}' (from {self.origin}): {problem}")


@dataclass(frozen=True, slots=True)
class LoadedRule:
    spec: RuleSpec
    plugin: Plugin


class Registry:
    """Validated rules by id (sorted), with the group and category names selectors may use."""

    def __init__(self, rules: Iterable[LoadedRule]) -> None:
        self._rules = {r.spec.id: r for r in sorted(rules, key=lambda r: r.spec.id)}

    def __iter__(self) -> Iterator[RuleSpec]:
        return (r.spec for r in self._rules.values())

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def get(self, rule_id: str) -> RuleSpec | None:
        loaded = self._rules.get(rule_id)
        return loaded.spec if loaded else None

    def plugin_of(self, rule_id: str) -> Plugin:
        return self._rules[rule_id].plugin

    @property
    def ids(self) -> list[str]:
        return list(self._rules)

    @property
    def groups(self) -> set[str]:
        return {r.spec.group for r in self._rules.values()}

    @property
    def categories(self) -> set[str]:
        return {r.spec.category for r in self._rules.values()}

    def matching(self, selector: str) -> list[str]:
        """Rule ids a selector names: an id, a group prefix (``title``) or a category."""
        if selector in self._rules:
            return [selector]
        return [i for i, r in self._rules.items() if r.spec.group == selector or r.spec.category == selector]


def load_registry(paths: Sequence[str | Path] = (), *, entry_points: bool = True) -> Registry:
    """Load and validate every rule: entry points (built-ins included), then ``--rules`` paths."""
    loaded: dict[str, LoadedRule] = {}
    sources: list[tuple[Plugin, Any]] = []
    if entry_points:
        sources.extend(_from_entry_points())
    for path in _expand_paths(paths):
        sources.append(_from_path(path))
    for plugin, obj in sources:
        for spec in _specs_of(plugin, obj):
            _validate(plugin, spec)
            if spec.id in loaded:
                first = loaded[spec.id].plugin
                raise plugin.error(f"rule id '{spec.id}' is already defined by plugin '{first.name}' (from {first.origin})")
            loaded[spec.id] = LoadedRule(spec, plugin)
    return Registry(loaded.values())


# ---------------------------------------------------------------- discovery
def _entry_points() -> list[Any]:
    """The ``emaudit.rules`` entry points, deduplicated (a checkout can be installed twice)."""
    from importlib.metadata import entry_points

    seen: dict[tuple[str, str], Any] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        seen.setdefault((ep.name, ep.value), ep)
    return list(seen.values())


def _from_entry_points() -> Iterator[tuple[Plugin, Any]]:
    eps = _entry_points()
    if not any(ep.value == BUILTIN_MODULE for ep in eps):
        # Running from a checkout that is not installed: the built-ins are still ours to load.
        plugin = Plugin("builtin", BUILTIN_MODULE)
        yield plugin, _guarded(plugin, importlib.import_module, BUILTIN_MODULE)
    for ep in sorted(eps, key=lambda e: (e.value != BUILTIN_MODULE, e.name)):
        plugin = Plugin(ep.name, f"entry point {ep.value}")
        yield plugin, _guarded(plugin, ep.load)


def _expand_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Files named, and the ``.py`` files of folders named, each once, in a stable order."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            files = sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
            if not files:
                raise Plugin(path.name, str(path)).error("folder holds no .py rule module")
            out.extend(files)
        elif path.is_file():
            out.append(path)
        else:
            raise Plugin(path.name, str(path)).error("no such file or folder")
    unique: dict[Path, Path] = {}
    for p in out:
        unique.setdefault(p.resolve(), p)
    return list(unique.values())


def _from_path(path: Path) -> tuple[Plugin, Any]:
    plugin = Plugin(path.stem, str(path))
    if path.suffix != ".py":
        raise plugin.error("not a .py file")
    return plugin, _guarded(plugin, _import_file, path)


def _import_file(path: Path) -> types.ModuleType:
    """Import a rule file under a unique name (two folders may both hold a ``checks.py``)."""
    digest = hashlib.sha1(str(path.resolve()).encode("utf-8", "surrogatepass")).hexdigest()[:12]
    name = f"emaudit_user_rules_{re.sub(r'[^0-9a-zA-Z_]', '_', path.stem)}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up here
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _guarded(plugin: Plugin, fn: Any, *args: Any) -> Any:
    """Call an importer; any failure becomes a PluginError naming the plugin."""
    try:
        return fn(*args)
    except PluginError:
        raise
    except Exception as exc:
        raise plugin.error(f"cannot be loaded: {type(exc).__name__}: {exc}") from exc


# ---------------------------------------------------------------- extraction and validation
def _specs_of(plugin: Plugin, obj: Any) -> list[RuleSpec]:
    """The RuleSpecs a loaded plugin object declares (module with RULES, or a tuple/list)."""
    if isinstance(obj, types.ModuleType):
        if not hasattr(obj, "RULES"):
            raise plugin.error(f"module {obj.__name__} has no RULES tuple")
        obj = obj.RULES
    if not isinstance(obj, (tuple, list)):
        raise plugin.error(f"RULES must be a tuple or list of rules, not {type(obj).__name__}")
    specs = []
    for index, item in enumerate(obj):
        spec = item if isinstance(item, RuleSpec) else getattr(item, RULE_ATTRIBUTE, None)
        if not isinstance(spec, RuleSpec):
            raise plugin.error(f"RULES item {index} ({item!r}) is not a rule: decorate it with @emaudit.api.rule")
        specs.append(spec)
    return specs


def _validate(plugin: Plugin, spec: RuleSpec) -> None:
    problems = rule_problems(spec)
    if problems:
        raise plugin.error(f"rule '{spec.id}' is invalid: " + "; ".join(problems))


def rule_problems(spec: RuleSpec) -> list[str]:
    """Everything wrong with a rule declaration (empty: valid). Also used by catalogue tests."""
    problems: list[str] = []
    if not isinstance(spec.id, str) or not ID_PATTERN.match(spec.id):
        problems.append("id must look like 'group.check' (lower case letters, digits, underscores)")
    problems += _choice("category", spec.category, CATEGORIES)
    problems += _choice("severity", spec.severity, SEVERITIES)
    problems += _choice("scope", spec.scope, SCOPES)
    if spec.scope in APPLIES_TO:
        problems += _choice("applies_to", spec.applies_to, APPLIES_TO[spec.scope])
    if not isinstance(spec.title, str) or not spec.title.strip() or "\n" in spec.title:
        problems.append("title must be one non-empty line")
    if not callable(spec.func):
        problems.append("is not callable")
    missing = [s for s in REQUIRED_DOC_SECTIONS if not spec.doc.get(s, "").strip()]
    if missing:
        problems.append("docstring lacks the section(s) " + ", ".join(f"'## {s}'" for s in missing))
    problems += _option_problems(spec)
    return problems


def _choice(key: str, value: Any, allowed: Sequence[str]) -> list[str]:
    if value in allowed:
        return []
    return [f"{key} {value!r} is not one of {', '.join(allowed)}"]


def _option_problems(spec: RuleSpec) -> list[str]:
    problems: list[str] = []
    names: set[str] = set()
    for option in spec.options:
        name = getattr(option, "name", None)
        if not isinstance(name, str) or not _OPTION_NAME.match(name) or name == "severity":
            problems.append(f"option name {name!r} must be a lower-case identifier other than 'severity'")
            continue
        if name in names:
            problems.append(f"option '{name}' is declared twice")
        names.add(name)
        if not str(getattr(option, "source", "") or "").strip():
            problems.append(f"option '{name}' has no source for its default")
        if not str(getattr(option, "description", "") or "").strip():
            problems.append(f"option '{name}' has no description")
    return problems
