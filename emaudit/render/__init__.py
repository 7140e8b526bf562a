"""Report renderers: one module per format, each ``render(result, out, *, verbose=False)``.

Renderers read an :class:`emaudit.audit.AuditResult` (counters, scores, and the sorted findings
spool) and write text; page-derived text goes through :mod:`emaudit.render.safe`.
"""

from __future__ import annotations

import importlib
from typing import Any, TextIO

FORMATS = ("table", "json", "jsonl", "csv", "markdown")


def render(fmt: str, result: Any, out: TextIO, *, verbose: bool = False) -> None:
    """Write ``result`` to ``out`` in format ``fmt`` (imported lazily: each format its own deps)."""
    module = importlib.import_module(f"emaudit.render.{fmt}")
    module.render(result, out, verbose=verbose)
