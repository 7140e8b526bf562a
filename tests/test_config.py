"""Configuration files, selection, per-rule options and severities, and their error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from emaudit.config import find_config, load_config, resolve_rules, split_csv
from emaudit.errors import ConfigError
from emaudit.registry import load_registry

PLUGINS = Path(__file__).parent / "plugins"


@pytest.fixture(scope="module")
def registry():
    return load_registry([PLUGINS], entry_points=False)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _ids(rules):
    return [r.id for r in rules]


def test_no_file_means_every_rule_with_defaults(tmp_path, registry):
    config = load_config(start=tmp_path)
    assert config.path is None or tmp_path not in config.path.parents
    rules = resolve_rules(load_config(_write(tmp_path / "emaudit.toml", "")), registry)
    assert _ids(rules) == registry.ids
    assert rules[0].severity == rules[0].spec.severity


def test_found_from_a_subfolder_upwards(tmp_path):
    own = _write(tmp_path / "emaudit.toml", 'select = ["test"]\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == own
    assert load_config(start=deep).select == ("test",)


def test_pyproject_tool_table_is_used_and_plain_pyproject_skipped(tmp_path):
    _write(tmp_path / "pyproject.toml", '[tool.emaudit]\nignore = ["test.no_lang"]\n')
    _write(tmp_path / "sub" / "pyproject.toml", '[project]\nname = "x"\n')
    config = load_config(start=tmp_path / "sub")
    assert config.path == tmp_path / "pyproject.toml"
    assert config.ignore == ("test.no_lang",)


def test_emaudit_toml_wins_over_pyproject_in_the_same_folder(tmp_path):
    _write(tmp_path / "pyproject.toml", '[tool.emaudit]\nfail_on = "notice"\n')
    own = _write(tmp_path / "emaudit.toml", 'fail_on = "error"\n')
    assert find_config(tmp_path) == own


def test_select_ignore_by_id_group_and_category(tmp_path, registry):
    config = load_config(_write(tmp_path / "c.toml", 'select = ["content", "test.broken_link"]\nignore = ["test.no_lang"]\n'))
    assert _ids(resolve_rules(config, registry)) == ["test.broken_link", "test.duplicate_title", "test.long_title"]
    assert _ids(resolve_rules(load_config(_write(tmp_path / "g.toml", 'ignore = ["test"]\n')), registry)) == []


def test_command_line_replaces_file_lists(tmp_path, registry):
    config = load_config(_write(tmp_path / "c.toml", 'select = ["links"]\nignore = ["test.broken_link"]\n'))
    assert _ids(resolve_rules(config, registry)) == []
    assert _ids(resolve_rules(config, registry, select=["test.no_lang", "links"], ignore=[])) == [
        "test.broken_link", "test.no_lang"]
    assert split_csv(["a,b", " c ", ""]) == ("a", "b", "c")
    assert split_csv(None) is None


def test_rule_options_and_severity(tmp_path, registry):
    config = load_config(_write(tmp_path / "c.toml", '[rules."test.long_title"]\nmax_chars = 65\nseverity = "error"\n'))
    rule = {r.id: r for r in resolve_rules(config, registry)}["test.long_title"]
    assert rule.options.max_chars == 65
    assert rule.severity == "error"
    assert rule.bound().severity == "error"
    with pytest.raises(AttributeError):
        rule.options.max_chars = 3


@pytest.mark.parametrize(("text", "expected"), [
    ('selct = ["x"]\n', "unknown key selct in .*c.toml.*did you mean 'select'"),
    ('select = "title"\n', "select in .*c.toml must be a list of strings"),
    ('select = ["nope"]\n', "select in .*c.toml: unknown rule, group or category 'nope'"),
    ('ignore = ["test.long_titel"]\n', "did you mean 'test.long_title'"),
    ('fail_on = "fatal"\n', "fail_on in .*c.toml: 'fatal' is not one of error, warning, notice"),
    ('[rules."test.nope"]\nmax_chars = 3\n', 'unknown rule rules."test.nope" in .*c.toml'),
    ('[rules."test.long_title"]\nmax_char = 3\n', "unknown option 'max_char' of rules.\"test.long_title\" in .*c.toml"),
    ('[rules."test.long_title"]\nmax_chars = "65"\n', "option 'max_chars' must be an integer, not '65'"),
    ('[rules."test.long_title"]\nmax_chars = true\n', "option 'max_chars' must be an integer"),
    ('[rules."test.long_title"]\nseverity = "fatal"\n', 'rules."test.long_title".severity in .*c.toml'),
    ('[rules."test.broken_link"]\nmax_chars = 3\n', "unknown option 'max_chars'"),
    ("select = [\n", "c.toml is not valid TOML"),
])
def test_errors_name_the_key_and_the_file(tmp_path, registry, text, expected):
    with pytest.raises(ConfigError, match=expected):
        resolve_rules(load_config(_write(tmp_path / "c.toml", text)), registry)


def test_pyproject_errors_use_the_tool_prefix(tmp_path, registry):
    path = _write(tmp_path / "pyproject.toml", '[tool.emaudit]\nselect = ["nope"]\n')
    with pytest.raises(ConfigError, match=r"tool\.emaudit\.select in .*pyproject.toml"):
        resolve_rules(load_config(path), registry)


def test_unknown_command_line_selector(registry):
    with pytest.raises(ConfigError, match="--select: unknown rule, group or category 'titel'"):
        resolve_rules(load_config(None, start=Path("/")), registry, select=["titel"])


def test_missing_config_file():
    with pytest.raises(ConfigError, match="--config: no such file"):
        load_config("/nonexistent/emaudit.toml")


def test_option_types_follow_the_default():
    from emaudit.config import _coerce

    assert _coerce("x", 1.5, 2) == 2.0 and isinstance(_coerce("x", 1.5, 2), float)
    assert _coerce("x", ("a",), ["b", "c"]) == ("b", "c")
    assert _coerce("x", frozenset({"a"}), ["b"]) == frozenset({"b"})
    with pytest.raises(ConfigError, match="must be a list of str"):
        _coerce("x", ("a",), ["b", 3])
    with pytest.raises(ConfigError, match="must be true or false"):
        _coerce("x", False, 0)
