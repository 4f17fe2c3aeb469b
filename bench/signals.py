"""A benchmark run ends the same way whatever stops it (Ctrl-C, SIGTERM, SIGHUP): it unwinds, and its
``finally`` blocks stop what it started."""

from __future__ import annotations

import signal
import sys


def stop_on_signals() -> None:
    """SIGTERM and SIGHUP end the run as Ctrl-C does: a KeyboardInterrupt that unwinds it, so its ``finally``
    stops the broker, PostgreSQL and processes it started (Python's default for SIGTERM is to die on the spot,
    leaving them running). Another signal while that happens is ignored, so stopping is not cut short."""
    stopping = False

    def interrupt(signum: int, _frame: object) -> None:
        nonlocal stopping
        if stopping:
            print("(still stopping what this run started)", file=sys.stderr, flush=True)
            return
        stopping = True
        print(f"\n{signal.Signals(signum).name}: stopping what this run started", file=sys.stderr, flush=True)
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)
