"""The live streams' shared reader: a stream follows the hub's buffer, reads the bus alone when it resumes
from before the buffer or falls behind it, and rejoins the buffer with every record exactly once."""

from __future__ import annotations

from pathlib import Path

from crm.platform.bus import OutgoingRecord
from crm.platform.bus.local_log import LocalLogBus
from crm.services.gateway.stream_hub import Follower, Hub
from tests.support.waiting import eventually

TOPIC = "customer.events"


async def publish(bus: LocalLogBus, count: int) -> None:
    await bus.publish([OutgoingRecord(TOPIC, None, b"not an event") for _ in range(count)])


async def offsets(follower: Follower, until: int) -> list[int]:
    """Every offset the follower returns until it has returned the one before ``until``."""
    found: list[int] = []
    while not found or found[-1] < until - 1:
        found += [item.offset for item in await follower.fetch(timeout=2)]
    return found


async def test_a_slow_stream_and_a_late_one_each_get_every_record_once(tmp_path: Path) -> None:
    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    await publish(bus, 2)  # before the hub: not streamed to a stream opened from the end
    hub = Hub(bus, [TOPIC], capacity=3)
    hub.start()
    try:
        slow = await Follower.open(hub, None, ready_within=5)
        assert slow.positions == {(TOPIC, 0): 2}
        await publish(bus, 10)
        await eventually(lambda: _true(hub.head[(TOPIC, 0)] == 12), what="the hub read every record")
        assert hub.base[(TOPIC, 0)] == 9  # only the last three are kept

        # The buffer left the slow one behind: it reads alone, then follows the hub again.
        assert await offsets(slow, 12) == list(range(2, 12))
        assert slow.reader is None
        await publish(bus, 2)
        assert await offsets(slow, 14) == [12, 13]

        # A cursor the buffer still covers is served from it; an older one is read from the bus first.
        recent = await Follower.open(hub, {(TOPIC, 0): 12}, ready_within=5)
        assert recent.reader is None
        assert await offsets(recent, 14) == [12, 13]
        old = await Follower.open(hub, {(TOPIC, 0): 4}, ready_within=5)
        assert old.reader is not None
        assert await offsets(old, 14) == list(range(4, 14))
        await publish(bus, 1)
        assert await offsets(old, 15) == [14]
        assert old.reader is None
        for follower in (slow, recent, old):
            await follower.close()
    finally:
        await hub.close()
        await bus.dispose()


async def _true(value: bool) -> bool:
    return value
