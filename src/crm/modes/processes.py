"""Run services as separate processes (``crm serve NAME``), each with its own environment and log file.

Used by the test bed's six-process tests and by ``crm up``. Readiness is the service answering /health, not
an open port; logs go to one file per process so a test (or a person) can read exactly what it printed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO


class ProcessError(RuntimeError):
    """A service process died or did not become healthy; the message carries its log's tail."""


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: Mapping[str, str]
    log_path: Path
    echo: Callable[[str, str], None] | None = field(default=None, repr=False)  # (name, line) as printed
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> ServiceProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        command = [
            sys.executable,
            "-m",
            "crm",
            "serve",
            self.name,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        self.proc = subprocess.Popen(
            command,
            env={**os.environ, **self.env},
            stdout=subprocess.PIPE if self.echo else log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in a terminal reaches us, and we stop children in order
        )
        if self.echo is None:
            log.close()
        else:
            threading.Thread(target=self._pump, args=(log,), daemon=True, name=f"log-{self.name}").start()
        return self

    def _pump(self, log: BinaryIO) -> None:
        """Copy the child's output to its log file and to ``echo``, line by line."""
        assert self.proc is not None and self.proc.stdout is not None and self.echo is not None
        with log:
            for raw in self.proc.stdout:
                log.write(raw)
                log.flush()
                with contextlib.suppress(Exception):  # a display problem must never stop the log file
                    self.echo(self.name, raw.decode("utf-8", "replace").rstrip("\n"))

    def wait_healthy(self, timeout: float = 60) -> ServiceProcess:
        """Block until GET /health answers 200; raises ProcessError if the process exits or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise ProcessError(
                    f"{self.name} exited with {self.proc and self.proc.returncode}:\n{self.tail()}"
                )
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as response:  # noqa: S310 - our URL
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise ProcessError(f"{self.name} not healthy after {timeout}s:\n{self.tail()}")

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM (graceful: in-flight requests finish), then SIGKILL after ``timeout``."""
        if not self.running:
            return
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.running:
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(10)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


def start_all(processes: list[ServiceProcess], timeout: float = 90) -> None:
    """Start every process at once, then wait for each to be healthy; stops them all on failure."""
    for process in processes:
        process.start()
    try:
        for process in processes:
            process.wait_healthy(timeout)
    except ProcessError:
        stop_all(processes)
        raise


def stop_all(processes: list[ServiceProcess]) -> None:
    for process in reversed(processes):
        process.stop()
