"""The embedded bus keeps Kafka's promises across a crash: records and committed offsets are on disk."""

from __future__ import annotations

import asyncio
from pathlib import Path

from crm.platform.bus import OutgoingRecord
from crm.platform.bus.local_log import LocalLogBus


def record(n: int, topic: str = "t.events") -> OutgoingRecord:
    return OutgoingRecord(topic, f"k{n}".encode(), f"v{n}".encode(), [("ce_id", f"{n}".encode())])


async def test_uncommitted_records_come_back_after_a_restart(tmp_path: Path) -> None:
    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    await bus.publish([record(1), record(2), record(3)])
    subscription = await bus.subscribe("g", ["t.events"])
    fetched = await subscription.fetch(10, timeout=0)
    assert [r.value for r in fetched] == [b"v1", b"v2", b"v3"]
    await subscription.commit(fetched[:1])  # crash after applying only the first
    await bus.dispose()

    restarted = LocalLogBus(tmp_path / "bus.sqlite3")
    again = await (await restarted.subscribe("g", ["t.events"])).fetch(10, timeout=0)
    assert [(r.offset, r.value, r.headers) for r in again] == [
        (1, b"v2", [("ce_id", b"2")]),
        (2, b"v3", [("ce_id", b"3")]),
    ]
    other_group = await (await restarted.subscribe("h", ["t.events"])).fetch(10, timeout=0)
    assert len(other_group) == 3, "each group has its own offsets"
    await restarted.dispose()


async def test_a_waiting_fetch_wakes_on_publish(tmp_path: Path) -> None:
    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    subscription = await bus.subscribe("g", ["t.events"])
    waiting = asyncio.create_task(subscription.fetch(10, timeout=5))
    await asyncio.sleep(0)
    await bus.publish([record(1)])
    fetched = await asyncio.wait_for(waiting, timeout=2)
    assert [r.value for r in fetched] == [b"v1"]
    await bus.dispose()


async def test_offsets_keep_growing_after_retention_empties_a_topic(tmp_path: Path) -> None:
    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    await bus.publish([record(1), record(2)])
    subscription = await bus.subscribe("g", ["t.events"])
    await subscription.commit(await subscription.fetch(10, timeout=0))
    async with bus.db.transaction() as session:  # what a week of retention does
        from crm.platform.bus.local_log import records

        await session.execute(records.delete())
    await bus.publish([record(3)])
    fresh = await (await bus.subscribe("g", ["t.events"])).fetch(10, timeout=0)
    assert [(r.offset, r.value) for r in fresh] == [(2, b"v3")], "the group sees the new record"
    await bus.dispose()


async def test_a_waiting_fetch_keeps_waiting_through_other_topics_appends(tmp_path: Path) -> None:
    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    subscription = await bus.subscribe("g", ["t.events"])
    waiting = asyncio.create_task(subscription.fetch(10, timeout=5))
    await asyncio.sleep(0)
    await bus.publish([record(1, "other.events"), record(2, "other.events")])
    await asyncio.sleep(0.05)
    assert not waiting.done(), "an append elsewhere is no record of this reader's"
    await bus.publish([record(3)])
    fetched = await asyncio.wait_for(waiting, timeout=2)
    assert [r.value for r in fetched] == [b"v3"]
    await bus.dispose()


async def test_records_another_process_appends_arrive_within_the_fetch_timeout(tmp_path: Path) -> None:
    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    subscription = await bus.subscribe("g", ["t.events"])
    assert await subscription.fetch(10, timeout=0) == []
    other_process = LocalLogBus(tmp_path / "bus.sqlite3")  # a CLI on the same file: no wake-up here
    await other_process.publish([record(1)])
    fetched = await asyncio.wait_for(subscription.fetch(10, timeout=0.2), timeout=2)
    assert [r.value for r in fetched] == [b"v1"]
    await other_process.dispose()
    await bus.dispose()


async def test_readers_do_not_queue_behind_an_append_in_progress(tmp_path: Path) -> None:
    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    await bus.publish([record(1)])
    subscription = await bus.subscribe("g", ["t.events"])
    async with bus.db.transaction() as session:  # a publish or an offset commit in progress
        await session.connection()  # holds the write connection and SQLite's write lock
        fetched = await asyncio.wait_for(subscription.fetch(10, timeout=0), timeout=2)
    assert [r.value for r in fetched] == [b"v1"]
    await bus.dispose()
