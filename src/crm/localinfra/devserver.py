"""``crm dev`` (the whole CRM in one process, embedded mode) run as a child process on a free port.

The one way the tests and the benchmarks start the embedded CRM as a user would: ``python -m crm dev``,
then wait for ``GET /health``. Its output goes to a log file, kept for the failure message.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import httpx

from crm.localinfra.errors import InfraError
from crm.localinfra.ports import free_port, log_tail

# /health is asked this often during a start: the cold-start benchmark reads the time to the first answer.
_PROBE_INTERVAL = 0.005


class DevServer:
    """``crm dev --port <free> --data-dir <data_dir>`` with ``env`` added to this process's environment."""

    def __init__(
        self,
        data_dir: Path,
        *,
        env: Mapping[str, str | None] | None = None,
        log_file: Path | None = None,
        port: int | None = None,
    ) -> None:
        """Describe a server; nothing runs before ``start()``. ``env``: variables set (a value of None removes
        the variable inherited from this process); ``log_file``: where its output goes (default: beside
        ``data_dir``)."""
        self.data_dir = data_dir
        self.env = dict(env or {})
        self.log_file = log_file or data_dir.parent / f"{data_dir.name}-crm-dev.log"
        self.port = port or free_port()
        self.started_in: float | None = None  # seconds from exec to the first /health answered
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise InfraError("crm dev has not been started")
        return self._proc.pid

    def start(self, timeout: float = 90) -> DevServer:
        """Start it and return once ``/health`` answers 200; InfraError with its log's tail if it exits first
        or does not answer within ``timeout`` seconds (a cold start is slow on a busy machine)."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **{k: v for k, v in self.env.items() if v is not None}}
        for name in (k for k, v in self.env.items() if v is None):
            env.pop(name, None)
        command = [sys.executable, "-m", "crm", "dev"]
        command += ["--port", str(self.port), "--data-dir", str(self.data_dir)]
        with self.log_file.open("ab") as log:
            began = time.perf_counter()
            self._proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=2) as probe:
            while not _healthy(probe):
                code = self._proc.poll()
                if code is not None:
                    raise InfraError(f"crm dev exited ({code}) during its start:\n{self.log()}")
                if time.monotonic() > deadline:
                    self.stop()
                    raise InfraError(f"crm dev did not answer /health within {timeout:g} s:\n{self.log()}")
                time.sleep(_PROBE_INTERVAL)
        self.started_in = time.perf_counter() - began
        return self

    def stop(self, timeout: float = 20) -> int | None:
        """SIGTERM (uvicorn's graceful shutdown), SIGKILL after ``timeout`` s; returns the exit status (None
        if it never ran). A clean stop is 0 or -SIGTERM: uvicorn re-raises the signal it caught."""
        if self._proc is None:
            return None
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        return self._proc.returncode

    def log(self, lines: int = 60) -> str:
        """The last ``lines`` lines of its output (``log_file``)."""
        return log_tail(self.log_file, lines)

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _healthy(probe: httpx.Client) -> bool:
    try:
        return probe.get("/health").status_code == 200
    except httpx.HTTPError:
        return False
