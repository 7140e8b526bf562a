"""``python -m emaudit``."""

from emaudit.cli import run

run()
