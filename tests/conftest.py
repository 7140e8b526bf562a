"""Set-up shared by every test module."""

from __future__ import annotations

import signal

# The crawl and audit subprocesses that tests interrupt must see SIGINT as a terminal's
# foreground job does. A harness that starts pytest as a background job of a non-interactive
# shell has SIGINT ignored; an ignored signal is inherited across exec and emaudit honours it
# (a handled one is not inherited: the children start with the default).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
