"""A throwaway Redis server (Debian's ``redis-server``) run as a local process on a free port.

Used by the tests (the gateway's shared rate-limit counters) and the gateway benchmark. No persistence: no RDB
snapshot, no append-only file; the data lives as long as the process.
"""

from __future__ import annotations

import asyncio
import atexit
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from crm.localinfra.errors import InfraError
from crm.localinfra.ports import free_port, log_tail, wait_ready

_INSTALL_HINT = "install it: apt-get install -y redis-server"


def find_redis_server() -> str:
    """The ``redis-server`` binary: on PATH, else Debian's /usr/bin/redis-server."""
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if not found:
        raise InfraError(f"`redis-server` not found: {_INSTALL_HINT}")
    return found


class RedisServer:
    """A Redis server listening on 127.0.0.1:<free port>, no password, no persistence."""

    def __init__(self, workdir: Path | None = None) -> None:
        """Describe a server; nothing runs before ``start()``. Its files go to ``workdir`` (default: a temp
        dir removed by ``stop()``)."""
        self._requested_workdir = workdir
        self._workdir: Path | None = None
        self._port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._binary = find_redis_server()

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self, timeout: float = 20) -> RedisServer:
        """Start the server and return once it answers PING; InfraError with its log's tail otherwise."""
        if self.running:
            return self
        workdir = self._requested_workdir or Path(tempfile.mkdtemp(prefix="crm-redis-"))
        workdir.mkdir(parents=True, exist_ok=True)
        self._workdir = workdir
        if self._port is None:
            self._port = free_port()
        self._launch()
        try:
            wait_ready(self._ping, what="Redis", timeout=timeout, exit_code=self._exit_code)
        except InfraError as exc:
            if self._exit_code() is not None and "Address already in use" in log_tail(self.log_file):
                self._port = free_port()  # another process took the port since we picked it: once more
                self._launch()
                wait_ready(self._ping, what="Redis", timeout=timeout, exit_code=self._exit_code)
            else:
                self._kill()
                raise InfraError(f"{exc}\n--- tail of {self.log_file}:\n{log_tail(self.log_file)}") from None
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s); delete its files unless a workdir was given."""
        self._kill()
        atexit.unregister(self.stop)
        if self._requested_workdir is None and self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def restart(self, timeout: float = 20) -> RedisServer:
        """Stop the server and start it again on the same port (its data is gone: no persistence)."""
        self._kill()
        return self.start(timeout)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise InfraError("the Redis server has not been started")
        return self._port

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``"""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def log_file(self) -> Path:
        if self._workdir is None:
            raise InfraError("the Redis server has not been started")
        return self._workdir / "redis.log"

    # -- internals -------------------------------------------------------------------------------------

    def _launch(self) -> None:
        assert self._workdir is not None and self._port is not None
        command = [
            self._binary,
            "--bind", "127.0.0.1",
            "--port", str(self._port),
            "--dir", str(self._workdir),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--logfile", str(self.log_file),
        ]  # fmt: skip
        try:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=self._workdir,
                start_new_session=True,
            )
        except OSError as exc:
            raise InfraError(f"redis-server could not run: {exc}") from None

    def _exit_code(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def _kill(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(10)
        self._proc = None

    async def _ping(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(b"PING\r\n")
            await writer.drain()
            answer = await reader.readline()
        finally:
            writer.close()
        if answer.strip() != b"+PONG":
            raise InfraError(f"Redis answered {answer!r} to PING")
