"""``--format csv``: one finding per row, safe to open in a spreadsheet.

Every cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed with
``'`` (OWASP "CSV injection"): page titles and URLs are chosen by the audited site.
"""

from __future__ import annotations

import csv
import json
from typing import Any, TextIO

from emaudit.render.safe import csv_cell

COLUMNS = ("rule", "severity", "category", "url", "message", "target", "fingerprint", "details")


def render(result: Any, out: TextIO, *, verbose: bool = False) -> None:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for f in result.findings:
        details = json.dumps(f.details, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        row = (f.rule, f.severity, f.category, f.url, f.message, f.target or "", f.fingerprint, details)
        writer.writerow([csv_cell(cell) for cell in row])
