"""``python -m emaudit``."""

from emaudit.cli import run

if __name__ == "__main__":  # not when re-imported as __mp_main__ by a spawned parse worker
    run()
