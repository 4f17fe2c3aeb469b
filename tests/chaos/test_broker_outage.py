"""The Kafka broker stopped for 30 s under load, then restarted: writes keep being accepted (their events
wait in the outboxes), and every event is delivered within 10 s of the restart (a requirement)."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.support.chaos import ChaosBed
from tests.support.invariants import delivered, outbox_backlog
from tests.support.waiting import eventually

pytestmark = pytest.mark.connected
OUTAGE_SECONDS = 30
DELIVERY_BOUND_SECONDS = 10
PACE = 8  # operations per second: a busy sales team, not a benchmark (bench/ measures throughput)


async def test_broker_stopped_30s_under_load_then_everything_delivered_within_10s(bed: ChaosBed) -> None:
    driver = bed.driver(operations=10**6, pace=PACE)  # runs until stopped
    load = asyncio.create_task(driver.run())
    try:

        async def started() -> bool:
            if load.done():
                load.result()
            return driver.done >= 10

        await eventually(started, timeout=120, what="the load under way")
        await asyncio.to_thread(bed.broker.stop)
        before = bed.ledger.accepted
        await asyncio.sleep(OUTAGE_SECONDS)  # the fault itself: the broker stays down this long
        accepted_while_down = bed.ledger.accepted - before
        waiting = sum((await outbox_backlog(bed.dsns)).values())
        await asyncio.to_thread(bed.broker.start)
        restarted = time.monotonic()
        driver.stop()
        await load
    finally:
        driver.stop()
        load.cancel()
    assert not bed.ledger.failures, bed.ledger.failures
    assert accepted_while_down > 0, "no write was accepted while the broker was down"
    assert waiting > 0, "no event waited in an outbox while the broker was down"
    check_began = restarted

    async def all_delivered() -> bool:
        nonlocal check_began
        check_began = time.monotonic()
        return await delivered(bed.dsns, bed.bootstrap)

    await eventually(all_delivered, timeout=90, interval=0.2, what="delivery")
    delivered_after = time.monotonic() - restarted  # the end of the check that saw it: an upper bound
    last_check = time.monotonic() - check_began
    findings = await bed.converged()
    bed.report(
        "broker down 30 s",
        f"Kafka broker stopped {OUTAGE_SECONDS} s under load, then started",
        findings,
        **{
            "writes accepted while down": accepted_while_down,
            "events waiting in outboxes at restart": waiting,
            "all delivered after restart (s)": round(delivered_after, 1),
            "of which the last check (s)": round(last_check, 1),
        },
    )
    assert delivered_after <= DELIVERY_BOUND_SECONDS, (
        f"delivery took {delivered_after:.1f}s after the broker restart (bound {DELIVERY_BOUND_SECONDS}s)"
    )
