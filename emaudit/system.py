"""What the machine offers this process."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one: a container or
    ``taskset`` limit counts, not the machine's total)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


@contextmanager
def signals_as_flag() -> Iterator[Callable[[], bool]]:
    """For the duration, SIGINT and SIGTERM only raise a flag: yields a function that tells
    whether one arrived. For work that polls instead of being interrupted by an exception
    (:meth:`emaudit.store.Store.finalize`). The flag never rises outside the main thread, where
    signals cannot be caught, nor for a signal this process ignores; the previous handlers come
    back at the end."""
    asked: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return

    def on_signal(signum: int, frame: object) -> None:
        asked.append(signum)

    # An ignored signal stays ignored (SIGINT of a job started in the background by a script).
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
                if signal.getsignal(sig) is not signal.SIG_IGN}
    try:
        # A Python function, not a builtin such as asked.__len__: the handler above runs only
        # when Python code does, and in a long SQLite statement this function is that code.
        yield lambda: bool(asked)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
