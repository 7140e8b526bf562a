"""``--format jsonl``: one finding per line, written as the engine produces them.

During an audit the command passes :class:`JsonlSink` to the engine, so a consumer (``jq``,
a log shipper) sees findings while the audit runs; :func:`render` writes a finished result
the same way, sorted.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from emaudit.api import Finding
from emaudit.render.safe import json_text


def line(finding: Finding) -> str:
    return json_text(json.dumps(finding.to_dict(), ensure_ascii=False, separators=(",", ":"))) + "\n"


class JsonlSink:
    """The engine's sink for ``--format jsonl``: one line per finding, flushed per line on a pipe."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def __call__(self, finding: Finding) -> None:
        self.out.write(line(finding))


def render(result: Any, out: TextIO, *, verbose: bool = False) -> None:
    for text in result.findings.iter_json():
        out.write(json_text(text))
        out.write("\n")
