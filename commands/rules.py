"""``emaudit rules``: the rule catalogue, or one rule's documentation and options."""

from __future__ import annotations

from typing import Annotated, Any

import typer

RuleId = Annotated[str | None, typer.Argument(help="A rule id (e.g. title.too_long): show its documentation and options.", show_default=False)]
Format = Annotated[str, typer.Option("--format", "-f", help="table (for people) or json (for programs).")]
RulePaths = Annotated[list[str] | None, typer.Option("--rules", help="Also load rules from a .py file or a folder of .py files (repeatable).")]

SCHEMA = "emaudit.rules/1"


def rules(rule_id: RuleId = None, output_format: Format = "table", rule_paths: RulePaths = None) -> None:
    """List every rule (id, category, severity, scope, title), or document one rule.

    Example: emaudit rules title.too_long
    """
    from emaudit.errors import UsageError
    from emaudit.registry import load_registry

    if output_format not in ("table", "json"):
        raise UsageError(f"--format must be table or json, not {output_format!r}")
    registry = load_registry(rule_paths or ())
    specs = list(registry) if rule_id is None else [_one(registry, rule_id)]
    if output_format == "json":
        _write_json(registry, specs, single=rule_id is not None)
    elif rule_id is None:
        _print_list(specs)
    else:
        _print_rule(registry, specs[0])


def _one(registry: Any, rule_id: str) -> Any:
    import difflib

    from emaudit.errors import UsageError

    spec = registry.get(rule_id)
    if spec is None:
        close = difflib.get_close_matches(rule_id, registry.ids, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else "; `emaudit rules` lists them"
        raise UsageError(f"unknown rule '{rule_id}'{hint}")
    return spec


def _as_dict(registry: Any, spec: Any, *, doc: bool) -> dict[str, Any]:
    data = {
        "id": spec.id, "group": spec.group, "category": spec.category, "severity": spec.severity,
        "scope": spec.scope, "applies_to": spec.applies_to, "title": spec.title,
        "plugin": registry.plugin_of(spec.id).name,
        "options": [{"name": o.name, "default": o.default, "description": o.description, "source": o.source}
                    for o in spec.options],
    }
    if doc:
        data["doc"] = dict(spec.doc)
    return data


def _write_json(registry: Any, specs: list[Any], *, single: bool) -> None:
    import json

    if single:
        document: dict[str, Any] = {"schema": SCHEMA, "rule": _as_dict(registry, specs[0], doc=True)}
    else:
        document = {"schema": SCHEMA, "rules": [_as_dict(registry, s, doc=False) for s in specs]}
    text = json.dumps(document, indent=2, ensure_ascii=False, default=_jsonable)
    from emaudit.render.output import open_output

    with open_output(None) as out:
        out.write(text + "\n")


def _jsonable(value: Any) -> Any:
    """Option defaults may be sets or tuples; JSON gets lists (sorted when unordered)."""
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)


def _console() -> Any:
    import sys

    from emaudit.render.table import make_console

    return make_console(sys.stdout)  # the audit table's: 120 columns on a pipe or in a file


def _print_list(specs: list[Any]) -> None:
    from rich.table import Table

    from emaudit.render.safe import terminal

    table = Table(show_edge=False, pad_edge=False)
    table.add_column("Rule", no_wrap=True)  # an id is copied whole into --select or a config file
    for name in ("Category", "Severity", "Scope", "Title"):
        table.add_column(name, overflow="fold")
    for s in specs:
        table.add_row(s.id, s.category, s.severity, s.scope, terminal(s.title))
    console = _console()
    console.print(table)
    console.print(f"\n{len(specs)} rules. Documentation of one: emaudit rules RULE_ID", markup=False)


def _print_rule(registry: Any, spec: Any) -> None:
    from rich.markdown import Markdown

    console = _console()
    console.print(Markdown(_rule_markdown(registry, spec)))


def _rule_markdown(registry: Any, spec: Any) -> str:
    """A rule's documentation as Markdown: header facts, docstring sections, options."""
    plugin = registry.plugin_of(spec.id)
    lines = [f"# {spec.id}: {spec.title}", "",
             (f"Category **{spec.category}** · severity **{spec.severity}** · scope **{spec.scope}**"
              f" · applies to **{spec.applies_to}** · from plugin *{plugin.name}*"), ""]
    for heading, body in spec.doc.items():
        if heading != "Options":
            lines += [f"## {heading}", "", body, ""]
    if spec.options:
        lines += ["## Options", "", "| Option | Default | Description | Source of the default |", "|---|---|---|---|"]
        lines += [f"| `{o.name}` | `{o.default!r}` | {o.description} | {o.source} |" for o in spec.options]
    lines += ["", f'Configure: `[rules."{spec.id}"]` in emaudit.toml (options above, or `severity = "error"`).']
    return "\n".join(lines)
