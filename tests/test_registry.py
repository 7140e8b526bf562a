"""Rule discovery (entry points, --rules file and folder) and load-time validation."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from emaudit import registry as registry_module
from emaudit.cli import main
from emaudit.errors import PluginError
from emaudit.registry import load_registry

PLUGINS = Path(__file__).parent / "plugins"

GOOD_RULE = '''
from emaudit.api import Option, rule

@rule(id="{id}", category="content", severity="notice", scope="page", title="A rule", applies_to="html",
      options=({options}))
def check(page, opts):
    """## What it checks
    Something.
    ## Why it matters
    Because.
    ## How to fix
    Like this.
    """
    yield from ()

RULES = (check,)
'''


def _plugin(folder: Path, name: str, rule_id: str = "acme.check", options: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(GOOD_RULE.format(id=rule_id, options=options), encoding="utf-8")
    return path


@pytest.fixture
def no_builtin(monkeypatch):
    """Isolate from the built-in catalogue (written in parallel): no installed entry point."""
    monkeypatch.setattr(registry_module, "_from_entry_points", lambda: iter(()))


def test_rules_path_file_and_folder(tmp_path):
    reg = load_registry([PLUGINS], entry_points=False)
    assert reg.ids == ["test.broken_link", "test.client_error", "test.duplicate_title", "test.long_title", "test.no_lang"]
    assert reg.plugin_of("test.long_title").name == "checks"
    single = load_registry([_plugin(tmp_path, "mine")], entry_points=False)
    assert single.ids == ["acme.check"]
    assert single.matching("acme") == ["acme.check"] and single.matching("content") == ["acme.check"]


def test_same_file_named_twice_loads_once_and_same_stem_in_two_folders_both_load(tmp_path):
    a = _plugin(tmp_path / "a", "checks", "acme.one")
    b = _plugin(tmp_path / "b", "checks", "acme.two")
    reg = load_registry([a, a, tmp_path / "b"], entry_points=False)
    assert reg.ids == ["acme.one", "acme.two"]
    assert b.exists()


def _dist(site: Path, name: str, value: str) -> None:
    """A minimal installed distribution exposing one emaudit.rules entry point."""
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[emaudit.rules]\n{name} = {value}\n", encoding="utf-8")


def test_plugin_through_a_real_entry_point(tmp_path, monkeypatch):
    site = tmp_path / "site"
    _plugin(site, "acme_seo_rules", "acme.check")
    _dist(site, "acme_seo", "acme_seo_rules")
    monkeypatch.syspath_prepend(str(site))
    eps = [ep for ep in registry_module._entry_points() if ep.name == "acme_seo"]
    assert [ep.value for ep in eps] == ["acme_seo_rules"]
    monkeypatch.setattr(registry_module, "_entry_points", lambda: eps)  # only this plugin + built-in fallback
    monkeypatch.setattr(registry_module, "BUILTIN_MODULE", "acme_seo_rules")  # stand-in for the catalogue
    reg = load_registry()
    assert reg.ids == ["acme.check"]
    assert reg.plugin_of("acme.check").name == "acme_seo"


def test_entry_point_may_name_a_tuple_of_rules(tmp_path, monkeypatch):
    site = tmp_path / "site"
    _plugin(site, "acme_tuple_rules", "acme.tupled")
    _dist(site, "acme_tuple", "acme_tuple_rules:RULES")
    monkeypatch.syspath_prepend(str(site))
    eps = [ep for ep in registry_module._entry_points() if ep.name == "acme_tuple"]
    monkeypatch.setattr(registry_module, "_entry_points", lambda: eps)
    monkeypatch.setattr(registry_module, "BUILTIN_MODULE", "acme_tuple_rules:RULES")
    assert load_registry().ids == ["acme.tupled"]


def test_builtin_is_imported_directly_when_not_installed(tmp_path, monkeypatch):
    _plugin(tmp_path, "fake_builtin_rules", "builtin.check")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry_module, "_entry_points", list)
    monkeypatch.setattr(registry_module, "BUILTIN_MODULE", "fake_builtin_rules")
    reg = load_registry()
    assert reg.ids == ["builtin.check"]
    assert reg.plugin_of("builtin.check").name == "builtin"


def test_broken_entry_point_is_named(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    (site / "acme_broken.py").write_text("import does_not_exist_anywhere\n", encoding="utf-8")
    _dist(site, "acme_broken", "acme_broken")
    monkeypatch.syspath_prepend(str(site))
    eps = [ep for ep in registry_module._entry_points() if ep.name == "acme_broken"]
    monkeypatch.setattr(registry_module, "_entry_points", lambda: eps)
    monkeypatch.setattr(registry_module, "_from_entry_points", registry_module._from_entry_points)
    with pytest.raises(PluginError, match=r"rule plugin 'acme_broken' \(from entry point acme_broken\): cannot be loaded: "
                                          r"ModuleNotFoundError"):
        list(registry_module._from_entry_points())


@pytest.mark.parametrize(("body", "expected"), [
    ("raise RuntimeError('boom')\n", r"rule plugin 'bad' \(from .*bad.py\): cannot be loaded: RuntimeError: boom"),
    ("x = (\n", "cannot be loaded: SyntaxError"),
    ("X = 1\n", "module .* has no RULES tuple"),
    ("RULES = 3\n", "RULES must be a tuple or list of rules, not int"),
    ("RULES = (print,)\n", "RULES item 0 .* is not a rule"),
])
def test_broken_rule_file_is_named(tmp_path, body, expected):
    path = tmp_path / "bad.py"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(PluginError, match=expected):
        load_registry([path], entry_points=False)
    if "cannot be loaded" in expected:  # a module that failed half-way is not left behind
        assert not [m for m in sys.modules if m.startswith("emaudit_user_rules_bad_") and
                    getattr(sys.modules[m], "__file__", None) == str(path)]


@pytest.mark.parametrize(("replace", "expected"), [
    (('id="acme.check"', 'id="Acme-Check"'), "rule 'Acme-Check' is invalid: id must look like 'group.check'"),
    (('category="content"', 'category="seo"'), "rule 'acme.check' is invalid: category 'seo' is not one of"),
    (('severity="notice"', 'severity="info"'), "severity 'info' is not one of error, warning, notice"),
    (('scope="page"', 'scope="pages"'), "scope 'pages' is not one of page, site"),
    (('applies_to="html"', 'applies_to="site"'), "applies_to 'site' is not one of url, page, html, indexable"),
    (('title="A rule"', 'title=""'), "title must be one non-empty line"),
    (("## How to fix", "## How to repair"), "docstring lacks the section\\(s\\) '## How to fix'"),
    (("options=()", 'options=(Option("max", 3, "Most", source=""),)'), "option 'max' has no source"),
    (("options=()", 'options=(Option("severity", 3, "x", source="y"),)'), "option name 'severity'"),
])
def test_invalid_rule_is_named_with_its_plugin(tmp_path, replace, expected):
    path = _plugin(tmp_path, "acme")
    path.write_text(path.read_text(encoding="utf-8").replace(*replace), encoding="utf-8")
    with pytest.raises(PluginError, match=r"rule plugin 'acme' \(from .*acme.py\): .*" + expected):
        load_registry([path], entry_points=False)


def test_duplicate_ids_name_both_plugins(tmp_path):
    a = _plugin(tmp_path / "a", "first", "acme.same")
    b = _plugin(tmp_path / "b", "second", "acme.same")
    with pytest.raises(PluginError, match=r"rule plugin 'second' .*rule id 'acme.same' is already defined by plugin 'first'"):
        load_registry([a, b], entry_points=False)


def test_missing_path_and_non_python_file(tmp_path):
    with pytest.raises(PluginError, match="no such file or folder"):
        load_registry([tmp_path / "nope.py"], entry_points=False)
    (tmp_path / "rules.txt").write_text("x", encoding="utf-8")
    with pytest.raises(PluginError, match="not a .py file"):
        load_registry([tmp_path / "rules.txt"], entry_points=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(PluginError, match="folder holds no .py rule module"):
        load_registry([tmp_path / "empty"], entry_points=False)


def test_broken_plugin_exits_2_with_its_name(tmp_path, capsys, no_builtin):
    bad = tmp_path / "my_checks.py"
    bad.write_text("import nope_nope\n", encoding="utf-8")
    assert main(["rules", "--rules", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("emaudit: error: rule plugin 'my_checks' (from ")
    assert "ModuleNotFoundError" in err and "\n" == err[-1] and err.count("\n") == 1


def test_rules_command_lists_and_documents(capsys, no_builtin):
    import json

    assert main(["rules", "--rules", str(PLUGINS), "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["schema"] == "emaudit.rules/1"
    assert [r["id"] for r in listed["rules"]][:2] == ["test.broken_link", "test.client_error"]
    assert main(["rules", "test.long_title", "--rules", str(PLUGINS), "-f", "json"]) == 0
    one = json.loads(capsys.readouterr().out)["rule"]
    assert one["options"] == [{"name": "max_chars", "default": 20, "description": "Longest title allowed", "source": "the tests"}]
    assert set(one["doc"]) == {"What it checks", "Why it matters", "How to fix"}
    assert main(["rules", "test.long_title", "--rules", str(PLUGINS)]) == 0
    text = capsys.readouterr().out
    assert "Why it matters" in text and "max_chars" in text and "the tests" in text
    assert main(["rules", "--rules", str(PLUGINS)]) == 0
    assert "test.duplicate_title" in capsys.readouterr().out


def test_rules_command_unknown_id(capsys, no_builtin):
    assert main(["rules", "test.long_titel", "--rules", str(PLUGINS)]) == 2
    assert "unknown rule 'test.long_titel' (did you mean 'test.long_title'?)" in capsys.readouterr().err


def test_rule_module_source_is_light():
    """``emaudit rules`` imports every rule module: the API must not drag in SQLite or rich."""
    import subprocess

    code = "import sys, emaudit.api, emaudit.registry; print(sorted(m for m in ('sqlite3', 'rich', 'bs4', 'lxml', 'httpx') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_rules_table_keeps_every_id_whole_on_a_pipe(capsys, monkeypatch):
    """Piped or in a file, ``emaudit rules`` is 120 columns wide like the audit table, and a rule
    id is never folded over two lines (it is copied whole into --select or a config file)."""
    import json

    monkeypatch.delenv("COLUMNS", raising=False)
    assert main(["rules", "--format", "json"]) == 0
    ids = [r["id"] for r in json.loads(capsys.readouterr().out)["rules"]]
    assert main(["rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(ids) >= 60 and max(len(line) for line in lines) <= 120
    first_cells = {line.split("│")[0].strip() for line in lines if "│" in line}
    assert set(ids) <= first_cells
