"""Where a report goes: stdout, or a file written atomically.

``-o FILE`` writes a temporary file in the same folder and renames it over FILE only once the
report is complete, so a cron job or a dashboard never reads half a report, and a failed run
leaves the previous report in place.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from emaudit.errors import UsageError


@contextmanager
def open_output(path: str | None, *, terminal: bool = False) -> Iterator[TextIO]:
    """A text stream for the report: ``path`` (atomically) or stdout when None or ``-``.

    Machine formats are always UTF-8 with untranslated newlines; ``terminal`` keeps stdout as
    it is, so rich can see whether it is a TTY and use its encoding.
    """
    if path is None or path == "-":
        if terminal:
            yield sys.stdout
            sys.stdout.flush()
        else:
            with _utf8_stdout() as out:
                yield out
        return
    if os.path.exists(path) and not os.path.isfile(path):
        # /dev/null, a FIFO, /dev/stdout: a rename would replace the device (as root) or fail.
        try:
            with open(path, "w", encoding="utf-8", newline="") as out:
                yield out
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
        return
    with _atomic_file(path) as out:
        yield out


@contextmanager
def _utf8_stdout() -> Iterator[TextIO]:
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a replaced stdout without bytes underneath (some test harnesses)
        yield sys.stdout
        sys.stdout.flush()
        return
    sys.stdout.flush()
    wrapper = io.TextIOWrapper(buffer, encoding="utf-8", newline="", write_through=True)
    try:
        yield wrapper
    finally:
        wrapper.flush()
        wrapper.detach()  # leave sys.stdout's buffer open


@contextmanager
def _atomic_file(path: str) -> Iterator[TextIO]:
    target = os.path.abspath(path)
    folder = os.path.dirname(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with open(fd, "w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        _unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
