"""asyncio helpers that stay cancellable on Python 3.11.

``asyncio.wait_for`` there can swallow a cancellation that lands as its inner wait completes (gh-86296), so a
loop built on it may never stop. These use ``asyncio.wait``, which never does."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable


async def wait_until(awaitable: Awaitable[object], timeout: float) -> bool:
    """Await ``awaitable`` for at most ``timeout`` seconds; True if it finished, False on timeout."""
    waiter = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({waiter}, timeout=timeout)
    finally:
        if not waiter.done():
            waiter.cancel()
    return bool(done)


async def cancel_and_wait(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel ``tasks`` and return once each has really ended (cancelling again if one swallowed it)."""
    for task in tasks:
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=0.5)
