"""emaudit.system: usable CPUs, and signals turned into a flag for work that polls."""

from __future__ import annotations

import os
import signal
import threading

from emaudit.system import signals_as_flag, usable_cpus


def test_usable_cpus_is_at_least_one():
    assert usable_cpus() >= 1


def test_signals_raise_the_flag_and_the_handlers_come_back():
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in (signal.SIGINT, signal.SIGTERM):
        with signals_as_flag() as asked:
            assert not asked()
            os.kill(os.getpid(), sig)  # the handler runs at the next bytecode: no exception here
            assert asked()
        assert {s: signal.getsignal(s) for s in before} == before


def test_an_ignored_signal_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with signals_as_flag() as asked:
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGINT)
            assert not asked()
            assert signal.getsignal(signal.SIGTERM) is not signal.getsignal(signal.SIGINT)  # SIGTERM is caught
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_outside_the_main_thread_nothing_is_installed():
    seen: list[object] = []

    def run() -> None:
        handler = signal.getsignal(signal.SIGINT)
        with signals_as_flag() as asked:
            seen.append(asked())
            seen.append(signal.getsignal(signal.SIGINT) is handler)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    assert seen == [False, True]
