"""The ``emaudit`` command: root Typer app and the single error → exit-code funnel.

Command modules live in ``emaudit.commands`` (one per subcommand) and import only Typer and
light modules at import time, so ``emaudit --help`` stays instant.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import traceback

import typer

from emaudit import __version__
from emaudit.errors import EmauditError, ExitCode

EPILOG = (
    "Exit codes: 0 ok; 1 findings at/above --fail-on (or blocked URLs with --fail-if-blocked); "
    "2 usage, configuration, plugin or store error; 3 start URL unreachable or disallowed; "
    "4 store not writable (permissions, disk full); 130 interrupted (work so far is saved)."
)

app = typer.Typer(
    name="emaudit",
    help="Web-marketing audits: polite crawler, SQLite crawl store, SEO rules, reports.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# (command name, module in emaudit.commands, function name)
COMMANDS: list[tuple[str, str, str]] = [
    ("crawl", "crawl", "crawl"),
    ("audit", "audit", "audit"),
    ("rules", "rules", "rules"),
    ("sitemap", "sitemap", "sitemap"),
    ("robots", "robots", "robots"),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"emaudit {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="Show the version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors.", envvar="EMAUDIT_DEBUG"),
) -> None:
    """Web-marketing audits: polite crawler, SQLite crawl store, SEO rules, reports."""
    if debug:
        os.environ["EMAUDIT_DEBUG"] = "1"


def _register() -> None:
    for name, module, func in COMMANDS:
        mod = importlib.import_module(f"emaudit.commands.{module}")
        app.command(name, epilog=EPILOG)(getattr(mod, func))


_register()


def _error(message: str) -> None:
    sys.stderr.write(f"emaudit: error: {message}\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the app, funnel every error to one line + exit code."""
    debug = os.environ.get("EMAUDIT_DEBUG") == "1" or "--debug" in (argv if argv is not None else sys.argv)
    previous = _terminate_as_interrupt()
    try:
        app(args=argv, prog_name="emaudit", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        if code == ExitCode.INTERRUPTED:  # Typer turns KeyboardInterrupt into a silent Exit(130)
            _error("interrupted")
        return code if isinstance(code, int) else (0 if code is None else ExitCode.USAGE)
    except EmauditError as exc:
        if debug:  # the traceback as well, but the same message and documented exit code
            traceback.print_exc()
        _error(str(exc))
        return int(exc.exit_code)
    except KeyboardInterrupt:
        _error("interrupted")
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # `emaudit … | head`: the reader went away; not an error of ours.
        _silence_stdout()
        return 0
    except Exception as exc:  # noqa: BLE001 - the funnel: never a traceback without --debug
        if debug:
            traceback.print_exc()
        _error(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)")
        return int(ExitCode.USAGE)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _terminate_as_interrupt() -> object:
    """SIGTERM (a cron timeout, systemd stop) ends a command like Ctrl-C does: ``finally``
    blocks run (the store is closed), one stderr line, exit 130. Returns the previous handler."""
    try:
        return signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:  # not the main thread (main() called from a test thread)
        return None


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def run() -> None:
    code = main()
    # The command is over (output written, store closed): a late Ctrl-C or SIGTERM must not turn
    # its exit code into a death by signal while the interpreter shuts down.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
