"""A fetched batch is applied in one transaction, and still exactly once per event: duplicates inside the
batch and across batches are skipped, a poison record is dead-lettered alone while the others are applied,
and a crash in the middle of a batch keeps nothing of it, so its redelivery applies every event once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from crm.platform.bus import IncomingRecord
from crm.platform.consumer import EventConsumer, PoisonMessage
from crm.platform.db import Database
from crm.platform.events import Envelope
from crm.platform.inbox import inbox_table
from crm.platform.outbox import Outbox, outbox_table
from crm.platform.unit_of_work import Tx
from tests.support.faults import DeadLetters

metadata = MetaData()
INBOX = inbox_table(metadata)
OUTBOX = outbox_table(metadata)
EFFECTS = Table(  # one row per application of an event: two rows for one event id would be a double effect
    "effects",
    metadata,
    Column("n", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
)


class Crash(BaseException):
    """The process dying in the middle of a handler (not an exception the consumer handles)."""


crash_at: set[str] = set()


async def record_effect(tx: Tx, envelope: Envelope) -> None:
    if envelope.data.get("poison"):
        raise PoisonMessage("this event can never be applied")
    if envelope.id in crash_at:
        crash_at.discard(envelope.id)
        raise Crash
    await tx.session.execute(insert(EFFECTS).values(event_id=envelope.id))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'service.sqlite3'}")
    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield database
    await database.dispose()


def consumer(db: Database, bus: DeadLetters) -> EventConsumer:
    return EventConsumer(
        group="svc",
        service="svc",
        db=db,
        bus=bus,  # type: ignore[arg-type]
        outbox=Outbox(OUTBOX),
        inbox=INBOX,
        handlers={"THING_HAPPENED": [record_effect]},
        topics=["things.events"],
        log=logging.LoggerAdapter(logging.getLogger("test.batches"), {"service": "svc"}),
        retry_delay=0.001,
    )


def records(*events: Envelope, start: int = 0) -> list[IncomingRecord]:
    return [
        IncomingRecord(e.topic, 0, start + i, e.subject.encode(), e.to_json(), e.headers())
        for i, e in enumerate(events)
    ]


def thing(n: int, **data: object) -> Envelope:
    return Envelope(
        type="THING_HAPPENED", source="test", subject=f"t{n}", data=dict(data), topic="things.events"
    )


async def effects(db: Database) -> dict[str, int]:
    async with db.sessions() as session:
        rows = await session.execute(select(EFFECTS.c.event_id, func.count()).group_by(EFFECTS.c.event_id))
        return {event_id: count for event_id, count in rows.all()}


async def test_a_batch_with_a_duplicate_applies_each_event_once(db: Database) -> None:
    events = [thing(n) for n in range(5)]
    c = consumer(db, DeadLetters())
    await c.process_batch(records(events[0]))  # applied before this batch
    # The batch: an event already applied, the same event twice, and three new ones.
    await c.process_batch(records(events[0], events[1], events[1], events[2], events[3], events[4], start=1))
    assert await effects(db) == {e.id: 1 for e in events}
    assert (c.applied, c.duplicates, c.batches_split) == (5, 2, 0)


async def test_a_poison_record_in_a_batch_neither_blocks_nor_loses_the_others(db: Database) -> None:
    bus = DeadLetters()
    c = consumer(db, bus)
    good = [thing(n) for n in range(4)]
    poison = thing(99, poison=True)
    not_json = IncomingRecord("things.events", 0, 9, b"k", b"{not json", [])
    await c.process_batch([*records(good[0], good[1], poison, good[2], good[3]), not_json])
    assert await effects(db) == {e.id: 1 for e in good}
    assert sorted(dict(r.headers)["dlq_reason"] for r in bus.published) == [
        b"invalid-envelope",
        b"invalid-payload",
    ]
    assert {r.topic for r in bus.published} == {"things.events.dlq"}
    assert (c.applied, c.dead_lettered, c.batches_split) == (4, 2, 1)


async def test_a_crash_mid_batch_keeps_nothing_and_the_redelivery_applies_each_event_once(
    db: Database,
) -> None:
    events = [thing(n) for n in range(6)]
    batch = records(*events)
    crash_at.add(events[3].id)  # the process dies while applying the fourth event
    with pytest.raises(Crash):
        await consumer(db, DeadLetters()).process_batch(batch)
    assert await effects(db) == {}  # the first three effects rolled back with the batch
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(INBOX)) == 0
    restarted = consumer(db, DeadLetters())  # no offset was committed: the whole batch comes again
    await restarted.process_batch(batch)
    assert await effects(db) == {e.id: 1 for e in events}
    assert restarted.applied == 6


async def test_a_cancelled_batch_is_not_split_but_rolled_back(db: Database) -> None:
    """Stopping the consumer mid-batch (a shutdown) is not a failure to retry one by one."""
    events = [thing(n) for n in range(3)]
    c = consumer(db, DeadLetters())

    async def never_done(tx: Tx, envelope: Envelope) -> None:
        await asyncio.Event().wait()

    c.handlers = {"THING_HAPPENED": [record_effect, never_done]}
    task = asyncio.ensure_future(c.process_batch(records(*events)))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await effects(db) == {}
    assert c.batches_split == 0


async def test_counts_accumulated_over_a_batch_are_written_with_it_once(db: Database) -> None:
    """What handlers accumulate in a transaction (analytics' event counters) is written once before the
    commit: a failed batch leaves none of it behind, and the one-by-one retry counts each event once."""
    writes: list[int] = []

    async def count(tx: Tx, envelope: Envelope) -> None:
        async def write(tx: Tx, total: list[int]) -> None:
            writes.append(total[0])
            await tx.session.execute(insert(EFFECTS).values(event_id=f"count:{total[0]}"))

        tx.accumulate("count", lambda: [0], write)[0] += 1

    c = consumer(db, DeadLetters())
    c.handlers = {"THING_HAPPENED": [count, record_effect]}
    await c.process_batch(records(*[thing(n) for n in range(4)]))
    assert writes == [4]
    await c.process_batch(records(thing(10), thing(11, poison=True), thing(12), start=4))
    assert writes == [4, 1, 1]  # the failed batch wrote nothing; then the two good events, alone
    assert sorted(k for k in await effects(db) if k.startswith("count:")) == ["count:1", "count:4"]
    assert (c.applied, c.dead_lettered) == (6, 1)
