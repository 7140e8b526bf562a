"""Packaging and start-up: every package is shipped, the CLI imports nothing heavy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
MAPPING = {"emaudit": "emaudit", "emaudit.commands": "commands", "emaudit.rules": "rules"}


def _declared() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(data["tool"]["setuptools"]["packages"])


def _on_disk() -> set[str]:
    found = set()
    for package, folder in MAPPING.items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            found.add(".".join([package, *rel.parts]) if rel.parts else package)
    return found


def test_every_package_folder_is_declared():
    assert _on_disk() == _declared()


def test_cli_import_is_light():
    code = (
        "import sys, emaudit.cli; "
        "heavy = sorted(m for m in ('pandas', 'advertools', 'scrapy', 'lxml', 'bs4', 'httpx') if m in sys.modules); "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", check=True).stdout
    assert out.strip() == ""


def test_version_and_help_run():
    for args in (["--version"], ["--help"], ["crawl", "--help"], ["audit", "--help"], ["rules"]):
        proc = subprocess.run([sys.executable, "-m", "emaudit", *args], capture_output=True, text=True, cwd="/")
        assert proc.returncode == 0, (args, proc.stderr)
        assert proc.stderr == ""
