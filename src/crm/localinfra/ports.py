"""Helpers shared by the local broker and database: free ports, running tools, readiness polling.

The pollers work from sync code and from inside a running event loop alike.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from crm.localinfra.errors import InfraError

T = TypeVar("T")

POLL_INTERVAL = 0.2
"""Seconds between two readiness probes."""


def free_port() -> int:
    """Return a TCP port that was free on 127.0.0.1 at the time of the call (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct ports, each free on 127.0.0.1 at the time of the call."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def run_tool(cmd: list[str], *, what: str, timeout: float, env: dict[str, str] | None = None) -> None:
    """Run ``cmd`` to completion; raise InfraError naming ``what`` with its output if it fails or hangs."""
    try:
        done = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
            stdin=subprocess.DEVNULL,
            cwd="/",
        )
    except subprocess.TimeoutExpired:
        raise InfraError(f"{what} timed out after {timeout:g} s") from None
    except OSError as exc:
        raise InfraError(f"{what} could not run {cmd[0]}: {exc}") from None
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        raise InfraError(f"{what} failed (exit {done.returncode}):\n{tail}")


def log_tail(path: Path, lines: int = 40) -> str:
    """Return the last ``lines`` lines of a log file, or a note saying it cannot be read."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log at {path}: {exc.strerror})"
    return "\n".join(text.splitlines()[-lines:])


def wait_ready(
    probe: Callable[[], Awaitable[object]],
    *,
    what: str,
    timeout: float,
    exit_code: Callable[[], int | None] = lambda: None,
) -> None:
    """Call the async ``probe`` until it returns without raising; return then.

    The probes run in a private event loop on a worker thread, so this blocks the calling thread only,
    whether or not an asyncio loop is running in it. Raises InfraError when ``exit_code()`` is not None
    (the process died) or when ``timeout`` seconds pass; the message names ``what`` and the last probe error.
    """

    async def poll() -> None:
        deadline = time.monotonic() + timeout
        last: BaseException | None = None
        while True:
            code = exit_code()
            if code is not None:
                raise InfraError(f"{what} exited with code {code} before it was ready")
            try:
                await asyncio.wait_for(probe(), timeout=max(0.5, deadline - time.monotonic()))
                return
            except Exception as exc:
                last = exc
            if time.monotonic() >= deadline:
                raise InfraError(f"{what} not ready after {timeout:g} s; last probe error: {last!r}")
            await asyncio.sleep(POLL_INTERVAL)

    run_sync(poll)


def run_sync(coro_factory: Callable[[], Awaitable[T]]) -> T:
    """Run ``coro_factory()`` to completion in a private event loop on a worker thread and return its result.

    Usable from plain sync code and from code running inside an asyncio loop (which it blocks meanwhile).
    """

    async def main() -> T:
        return await coro_factory()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="localinfra") as pool:
        return pool.submit(asyncio.run, main()).result()
