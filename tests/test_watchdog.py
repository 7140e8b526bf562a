"""The shutdown watchdog (a crawl that hangs while stopping leaves anyway, exit 130; a clean stop
disarms it, so a program calling run_crawl goes on living) and --debug (tracebacks added, the
documented exit codes kept)."""

from __future__ import annotations

import subprocess
import sys
import time

SCRIPT = """
import sys, time
from emaudit.crawler import ShutdownWatchdog
dog = ShutdownWatchdog()
dog.arm(0.3)
if sys.argv[1] == "disarm":
    dog.disarm()
time.sleep(float(sys.argv[2]))  # a stop that hangs (or a caller that goes on working)
print("still alive")
"""


def _run(mode: str, sleep: float) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", SCRIPT, mode, str(sleep)], capture_output=True, text=True, timeout=30)
    return proc, time.monotonic() - started


def test_a_hanging_stop_leaves_with_130_and_says_why() -> None:
    proc, took = _run("hang", 20)
    assert proc.returncode == 130
    assert took < 10  # not the 20 s of the hang
    assert proc.stdout == ""
    assert proc.stderr.strip() == (
        "emaudit: error: the crawl did not stop within 0.3 s of the signal: leaving now; resume with --resume"
    )


def test_a_clean_stop_disarms_it() -> None:
    proc, _ = _run("disarm", 1.0)
    assert (proc.returncode, proc.stdout.strip(), proc.stderr) == (0, "still alive", "")


def test_with_debug_it_shows_where_every_thread_was() -> None:
    import os

    env = {**os.environ, "EMAUDIT_DEBUG": "1"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, "hang", "20"], capture_output=True, text=True, timeout=30,
                          env=env)
    assert proc.returncode == 130
    assert "most recent call first" in proc.stderr and 'File "<string>"' in proc.stderr  # the sleeping main thread
    assert proc.stderr.strip().splitlines()[-1].startswith("emaudit: error: the crawl did not stop within")


def test_debug_keeps_the_documented_exit_code() -> None:
    # --debug adds the traceback; the one-line error and the exit code stay (usage error: 2).
    import os

    env = {**os.environ, "EMAUDIT_DEBUG": "1"}
    proc = subprocess.run([sys.executable, "-m", "emaudit", "crawl", "--resume", "/nonexistent/x.emaudit.db"],
                          capture_output=True, text=True, timeout=60, env=env, cwd="/")
    normal = subprocess.run([sys.executable, "-m", "emaudit", "crawl", "--resume", "/nonexistent/x.emaudit.db"],
                            capture_output=True, text=True, timeout=60, cwd="/",
                            env={k: v for k, v in os.environ.items() if k != "EMAUDIT_DEBUG"})
    assert proc.returncode == normal.returncode != 0
    assert "Traceback" in proc.stderr and "Traceback" not in normal.stderr
    assert proc.stderr.strip().splitlines()[-1] == normal.stderr.strip()
