"""Audit configuration: which rules run, with which options and severities.

Read from ``--config FILE``, else from the first ``emaudit.toml`` or ``pyproject.toml`` with a
``[tool.emaudit]`` table found in the current folder or one of its parents::

    select = ["title", "canonical", "links.broken"]   # ids, groups or categories (default: all)
    ignore = ["content.thin"]
    fail_on = "error"                                  # error | warning | notice

    [rules."title.too_long"]
    max_chars = 65
    severity = "error"

``--select``/``--ignore``/``--fail-on`` on the command line replace the file's values. Every
name is checked against the loaded rules and every value against the option's default type:
a typo is a :class:`~emaudit.errors.ConfigError` naming the key and the file, never a rule that
silently keeps its default.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emaudit.api import SEVERITIES, BoundRule, Options, RuleSpec
from emaudit.errors import ConfigError
from emaudit.registry import Registry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG_FILE = "emaudit.toml"
PYPROJECT = "pyproject.toml"
TOP_LEVEL_KEYS = ("select", "ignore", "fail_on", "rules")


@dataclass(frozen=True, slots=True)
class Config:
    """The raw (but well-typed) content of a configuration file; empty when there is none."""

    path: Path | None = None
    prefix: str = ""  # "tool.emaudit." inside pyproject.toml: used to name keys in errors
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    fail_on: str | None = None
    rules: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def where(self, key: str) -> str:
        """``key`` as the user wrote it, with its file: for error messages."""
        return f"{self.prefix}{key} in {self.path}" if self.path else key


@dataclass(frozen=True, slots=True)
class ActiveRule:
    """A rule as it will run: its spec, effective severity and options."""

    spec: RuleSpec
    severity: str
    options: Options

    @property
    def id(self) -> str:
        return self.spec.id

    def bound(self) -> BoundRule:
        return BoundRule(self.spec.id, self.severity, self.spec.category)


# ---------------------------------------------------------------- files
def find_config(start: Path | None = None) -> Path | None:
    """The nearest ``emaudit.toml``, or ``pyproject.toml`` with ``[tool.emaudit]``, upwards."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        own = candidate / CONFIG_FILE
        if own.is_file():
            return own
        pyproject = candidate / PYPROJECT
        if pyproject.is_file() and "emaudit" in _read_toml(pyproject).get("tool", {}):
            return pyproject
    return None


def load_config(path: str | Path | None = None, *, start: Path | None = None) -> Config:
    """Load ``path`` (``--config``), else the nearest configuration file, else an empty Config."""
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"--config: no such file {file}")
    else:
        found = find_config(start)
        if found is None:
            return Config()
        file = found
    data = _read_toml(file)
    if file.name == PYPROJECT:
        return _parse(data.get("tool", {}).get("emaudit", {}), file, "tool.emaudit.")
    return _parse(data, file, "")


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        with file.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read {file}: {exc.strerror or exc}") from exc


def _parse(data: Mapping[str, Any], file: Path, prefix: str) -> Config:
    cfg = Config(path=file, prefix=prefix)
    if not isinstance(data, Mapping):
        raise ConfigError(f"{prefix.rstrip('.')} in {file} must be a table")
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise ConfigError(f"unknown key {cfg.where(key)}{_suggest(key, TOP_LEVEL_KEYS)}")
    select = data.get("select")
    rules = data.get("rules", {})
    if not isinstance(rules, Mapping) or not all(isinstance(v, Mapping) for v in rules.values()):
        raise ConfigError(f'{cfg.where("rules")} must hold tables such as [rules."title.too_long"]')
    return Config(
        path=file,
        prefix=prefix,
        select=None if select is None else _string_list(cfg, "select", select),
        ignore=_string_list(cfg, "ignore", data.get("ignore", [])),
        fail_on=_severity(cfg, "fail_on", data.get("fail_on")) if "fail_on" in data else None,
        rules={str(k): dict(v) for k, v in rules.items()},
    )


def _string_list(cfg: Config, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{cfg.where(key)} must be a list of strings, such as [\"title\", \"links.broken\"]")
    return tuple(v.strip() for v in value if v.strip())


def _severity(cfg: Config, key: str, value: Any) -> str:
    if value not in SEVERITIES:
        raise ConfigError(f"{cfg.where(key)}: {value!r} is not one of {', '.join(SEVERITIES)}")
    return value


def split_csv(values: Sequence[str] | None) -> tuple[str, ...] | None:
    """``--select a,b --select c`` → ("a", "b", "c"); None when the option was not given."""
    if not values:
        return None
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


# ---------------------------------------------------------------- resolution against the registry
def resolve_rules(
    config: Config,
    registry: Registry,
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
) -> list[ActiveRule]:
    """The rules to run, in id order, with config severities and options applied.

    ``select``/``ignore`` come from the command line and replace the file's lists.
    """
    chosen = _selected(registry, config, select, ignore)
    _check_rule_tables(registry, config)
    return [_activate(registry.get(rule_id), config) for rule_id in registry.ids if rule_id in chosen]


def _selected(registry: Registry, config: Config, select: Sequence[str] | None, ignore: Sequence[str] | None) -> set[str]:
    if select is not None:
        chosen = _expand(registry, select, "--select")
    elif config.select is not None:
        chosen = _expand(registry, config.select, config.where("select"))
    else:
        chosen = set(registry.ids)
    if ignore is not None:
        return chosen - _expand(registry, ignore, "--ignore")
    return chosen - _expand(registry, config.ignore, config.where("ignore"))


def _expand(registry: Registry, selectors: Iterable[str], where: str) -> set[str]:
    out: set[str] = set()
    names = [*registry.ids, *registry.groups, *registry.categories]
    for selector in selectors:
        ids = registry.matching(selector)
        if not ids:
            raise ConfigError(f"{where}: unknown rule, group or category '{selector}'{_suggest(selector, names)}")
        out.update(ids)
    return out


def _check_rule_tables(registry: Registry, config: Config) -> None:
    for rule_id, table in config.rules.items():
        spec = registry.get(rule_id)
        where = config.where(f'rules."{rule_id}"')
        if spec is None:
            raise ConfigError(f"unknown rule {where}{_suggest(rule_id, registry.ids)}")
        known = [o.name for o in spec.options]
        for key in table:
            if key != "severity" and key not in known:
                choices = ", ".join(["severity", *known])
                raise ConfigError(f"unknown option '{key}' of {where} (known: {choices}){_suggest(key, known)}")


def _activate(spec: RuleSpec, config: Config) -> ActiveRule:
    table = config.rules.get(spec.id, {})
    where = config.where(f'rules."{spec.id}"')
    severity = spec.severity
    if "severity" in table:
        severity = _severity(config, f'rules."{spec.id}".severity', table["severity"])
    values = {o.name: _coerce(f"{where}: option '{o.name}'", o.default, table[o.name]) if o.name in table else o.default
              for o in spec.options}
    return ActiveRule(spec, severity, Options(values))


def _coerce(where: str, default: Any, value: Any) -> Any:
    """Check ``value`` against the default's type; lists become tuples when the default is one."""
    if default is None:
        return value
    expected = _type_name(default)
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, (list, tuple, frozenset, set)):
        ok = isinstance(value, list) and _same_item_types(default, value)
        value = type(default)(value) if ok else value
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise ConfigError(f"{where} must be {expected}, not {value!r}")
    return value


def _same_item_types(default: Iterable[Any], value: list[Any]) -> bool:
    kinds = {type(v) for v in default}
    return not kinds or all(type(v) in kinds for v in value)


def _type_name(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "an integer"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, str):
        return "a string"
    if isinstance(default, (list, tuple, frozenset, set)):
        item = next(iter(default), None)
        return "a list" + (f" of {type(item).__name__}" if item is not None else "")
    return f"a {type(default).__name__}"


def _suggest(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
