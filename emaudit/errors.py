"""Errors and exit codes.

Every expected failure is an :class:`EmauditError` subclass carrying its exit code; ``emaudit.cli``
is the single funnel that turns them into one stderr line and that exit code.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Documented exit codes (README, `emaudit --help`)."""

    OK = 0
    FINDINGS = 1  # findings at/above --fail-on; blocked URLs with --fail-if-blocked
    USAGE = 2  # bad option, bad config, unknown rule, broken plugin, bad/corrupt store, internal error
    UNREACHABLE = 3  # start URL unreachable, or disallowed by robots.txt
    STORE = 4  # store location unwritable, disk full
    INTERRUPTED = 130  # Ctrl-C / SIGTERM (everything fetched so far is saved)


class EmauditError(Exception):
    """An expected error: shown as one line, mapped to an exit code."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, exit_code: ExitCode | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(EmauditError):
    """Bad command-line input (URL, option value)."""


class ConfigError(EmauditError):
    """Bad configuration file or rule selection/option."""


class PluginError(EmauditError):
    """A rule plugin failed to load or is invalid."""


class StoreError(EmauditError):
    """The crawl store cannot be opened, is corrupt, or has another schema version."""


class StoreWriteError(EmauditError):
    """The crawl store cannot be written (permissions, disk full)."""

    exit_code = ExitCode.STORE


class UnreachableError(EmauditError):
    """The start URL could not be fetched at all, or robots.txt disallows it."""

    exit_code = ExitCode.UNREACHABLE


class Interrupted(EmauditError):
    """The run was interrupted (SIGINT/SIGTERM); what was done is saved."""

    exit_code = ExitCode.INTERRUPTED
