"""Run one tool in a child process and measure it exactly.

* Wall time: from ``Popen`` to the child's exit, noticed at once through a pidfd (Linux ≥ 5.3),
  else by polling every 20 ms. It includes interpreter start-up and imports, as a user sees them.
* CPU seconds and peak RSS: the ``rusage`` that ``os.wait4`` returns for *that* child — user + sys
  time of the child and of every descendant it waited for, and ``ru_maxrss``, the largest resident
  set of any single process among them (the kernel's own high-water mark, not a sample).
  ``RUSAGE_CHILDREN`` would not do: its maxrss is the maximum over *all* children ever reaped, so
  a 200 MB tool would mask a 40 MB one run after it.
* Tree RSS (when psutil is installed): the sum of the RSS of the child and all its live
  descendants, sampled every 50 ms — it shows when a tool is several processes at once
  (advertools runs ``scrapy runspider`` as a subprocess of the Python that called it).
* Tree PSS (Linux ``/proc/PID/smaps_rollup``): the same sum of proportional set sizes, where a
  page shared by n processes (the interpreter, lxml, libsqlite3 …) counts 1/n in each: the
  memory the tool actually takes from the machine, which the RSS sum over-counts. Sampled every
  250 ms (reading smaps costs more than the RSS).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import select
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

try:
    import psutil
except ImportError:  # optional: only the sampled tree RSS needs it
    psutil = None

SAMPLE_INTERVAL = 0.05
KILL_GRACE = 10.0
PR_SET_PDEATHSIG = 1
CLONE_NEWNET = 0x40000000


def child_preexec() -> None:
    """In the child before exec: die with the harness (Linux), so no server or crawler outlives it;
    SIGINT as a terminal's foreground job has it (the resume test's Ctrl-C), even when the harness
    itself runs as a background job with SIGINT ignored (inherited across exec, and honoured)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def signal_group(proc: subprocess.Popen, sig: int) -> None:
    """Signal the child's whole process group (it was started as a session leader): a tool's own
    subprocesses (advertools' ``scrapy runspider``) must not outlive it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def stop_process(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM to the child's group, then SIGKILL after ``grace`` seconds; always reaps."""
    if proc.poll() is not None:
        signal_group(proc, signal.SIGKILL)  # stragglers of an exited child
        return
    signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        signal_group(proc, signal.SIGKILL)
        proc.wait(timeout=grace)
    signal_group(proc, signal.SIGKILL)


def proc_cpu_seconds(pid: int) -> float | None:
    """user + sys CPU seconds of a live process (for the server: how busy it was)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def enter_private_netns() -> bool:
    """Move this process (and so every child) into a new network namespace with only loopback.

    A hard guarantee that nothing the benchmark runs — crawlers following the example.org links
    included — can reach any address but 127.0.0.1. Needs root (or CAP_SYS_ADMIN); returns False
    when it is not possible, and the caller falls back to a dead proxy for non-loopback traffic.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        return False
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        req = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock, siocgifflags, req))[1]
        fcntl.ioctl(sock, siocsifflags, struct.pack("16sH22x", b"lo", flags | iff_up))
    return True


@dataclass
class RunResult:
    name: str
    cmd: list[str]
    returncode: int | None = None
    wall_s: float = 0.0
    user_s: float = 0.0
    sys_s: float = 0.0
    maxrss_kb: int = 0
    tree_rss_peak_kb: int | None = None
    tree_pss_peak_kb: int | None = None
    timed_out: bool = False
    signalled: bool = False  # the caller's ``interrupt`` callback asked for SIGINT
    signal_at_s: float | None = None
    stdout_path: Path | None = None
    stderr_path: Path | None = None
    extra: dict = field(default_factory=dict)

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    @property
    def maxrss_mb(self) -> float:
        return self.maxrss_kb / 1024

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace") if self.stdout_path else ""

    def stderr_tail(self, lines: int = 15) -> str:
        if not self.stderr_path:
            return ""
        return "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-lines:])


SAMPLE_PSS_EVERY = 5  # RSS samples per PSS sample


def _tree(pid: int) -> list | None:
    if psutil is None:
        return None
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return None


def _tree_rss_kb(procs: list) -> int:
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total // 1024


def _pss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _tree_pss_kb(procs: list) -> int | None:
    values = [_pss_kb(p.pid) for p in procs]
    known = [v for v in values if v is not None]
    return sum(known) if known and len(known) == len(values) else None


class _ExitWaiter:
    """Block until the child exits or ``timeout`` passes: a pidfd if possible, else a short sleep."""

    def __init__(self, pid: int) -> None:
        self.fd: int | None = None
        with contextlib.suppress(AttributeError, OSError):
            self.fd = os.pidfd_open(pid)

    def wait(self, timeout: float) -> None:
        if self.fd is None:
            time.sleep(min(timeout, 0.02))
        else:
            select.select([self.fd], [], [], timeout)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)


def run_measured(
    name: str,
    cmd: list[str],
    log_dir: Path,
    timeout: float,
    env: dict[str, str] | None = None,
    interrupt: Callable[[float], bool] | None = None,
    cwd: Path | None = None,
    shutdown_grace: float = 30.0,
) -> RunResult:
    """Run ``cmd`` to completion (bounded by ``timeout``) and measure it.

    ``interrupt(elapsed)`` is called every 50 ms; when it first returns True the child's process
    group gets SIGINT (the resume test's simulated Ctrl-C), and from then on the child has
    ``shutdown_grace`` seconds to exit before it is terminated (``timed_out``), then killed.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    res = RunResult(name, cmd, stdout_path=log_dir / f"{name}.stdout", stderr_path=log_dir / f"{name}.stderr")
    with open(res.stdout_path, "wb") as out, open(res.stderr_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=cwd,
            preexec_fn=child_preexec, start_new_session=True,
        )  # fmt: skip
    waiter = _ExitWaiter(proc.pid)
    status = rusage = None
    try:
        status, rusage = _wait_loop(proc, res, waiter, start, timeout, interrupt, shutdown_grace)
    finally:
        waiter.close()
        if status is None:  # harness interrupted or failed: never leave the child behind
            stop_process(proc)
    res.wall_s = time.perf_counter() - start
    signal_group(proc, signal.SIGKILL)  # nothing the tool started may outlive it
    proc.returncode = res.returncode = os.waitstatus_to_exitcode(status)
    res.user_s, res.sys_s, res.maxrss_kb = rusage.ru_utime, rusage.ru_stime, rusage.ru_maxrss
    return res


def _wait_loop(proc, res, waiter, start, timeout, interrupt, shutdown_grace):
    deadline = start + timeout
    kill_at = None
    next_sample = 0.0
    samples = 0
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            return status, rusage
        now = time.perf_counter()
        if now >= next_sample:
            procs = _tree(proc.pid)
            if procs is not None:
                res.tree_rss_peak_kb = max(res.tree_rss_peak_kb or 0, _tree_rss_kb(procs))
                pss = _tree_pss_kb(procs) if samples % SAMPLE_PSS_EVERY == 0 else None
                if pss is not None:
                    res.tree_pss_peak_kb = max(res.tree_pss_peak_kb or 0, pss)
            samples += 1
            next_sample = now + SAMPLE_INTERVAL
        if interrupt and not res.signalled and interrupt(now - start):
            res.signalled, res.signal_at_s = True, now - start
            signal_group(proc, signal.SIGINT)  # as a terminal's Ctrl-C does
            deadline = min(deadline, now + shutdown_grace)
        if now >= deadline and kill_at is None:
            res.timed_out, kill_at = True, now + KILL_GRACE
            signal_group(proc, signal.SIGTERM)
        elif kill_at is not None and now >= kill_at:
            signal_group(proc, signal.SIGKILL)
            kill_at = now + 3600  # killed: just wait for it
        waiter.wait(SAMPLE_INTERVAL)
