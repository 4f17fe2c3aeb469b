"""asyncio helpers that stay cancellable on Python 3.11.

``asyncio.wait_for`` there can swallow a cancellation that lands as its inner wait completes (gh-86296), so a
loop built on it may never stop. These use ``asyncio.wait``, which never does."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable

# The longest wait between two attempts to reach Kafka, for everything that reads or writes it (the outbox
# relay, the consumers, the revocation feed, the live stream's reader): once the broker is back, each resumes
# within this. Issue 8 requires every waiting event delivered within 10 s of a broker's restart, and a token
# revoked meanwhile must be refused again as soon.
RETRY_CAP_SECONDS = 2.0


def reconnect_delay(failures: int) -> float:
    """Seconds to wait after the ``failures``-th failure in a row: 0.5, 1, 2, 2, … with ±20% jitter, so that
    processes which lost the broker together do not retry in step."""
    return min(RETRY_CAP_SECONDS, 0.25 * 2 ** min(failures, 6)) * random.uniform(0.8, 1.2)


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
