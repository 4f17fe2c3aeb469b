"""A `python -m bench` run that is sent SIGTERM (or SIGHUP) unwinds as after Ctrl-C, so what it started (the
broker, PostgreSQL, the six processes) is stopped by its ``finally`` blocks instead of being left running."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = """
import pathlib, sys, time
from bench.signals import stop_on_signals
stop_on_signals()
try:
    print("started", flush=True)
    time.sleep(60)
finally:
    pathlib.Path(sys.argv[1]).write_text("stopped what it started")
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signalled_run_stops_what_it_started(tmp_path: Path, sig: signal.Signals) -> None:
    flag = tmp_path / "flag"
    run = subprocess.Popen(
        [sys.executable, "-c", RUN, str(flag)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert run.stdout is not None and run.stdout.readline() == b"started\n"
    run.send_signal(sig)
    _, err = run.communicate(timeout=60)
    assert flag.read_text() == "stopped what it started"
    assert f"{sig.name}: stopping what this run started".encode() in err
