"""`crm kafka dlq replay` on the real broker re-delivers a dead letter to the one consumer group that
dead-lettered it: that group applies it once (after the fix), and another group reading the same topic, which
had applied the original, never handles the replayed copy."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import MetaData
from typer.testing import CliRunner

from crm.cli import app
from crm.localinfra import KafkaBroker
from crm.modes.local_cluster import plaintext_kafka
from crm.platform.bus import IncomingRecord, OutgoingRecord
from crm.platform.bus.kafka import KafkaBus
from crm.platform.consumer import EventConsumer, PoisonMessage
from crm.platform.db import Database
from crm.platform.events import Envelope
from crm.platform.inbox import inbox_table
from crm.platform.outbox import Outbox, outbox_table
from crm.platform.settings import Settings
from crm.platform.unit_of_work import Tx
from tests.support.waiting import eventually

pytestmark = pytest.mark.connected
TOPIC = "notification.events"
PROBE = "DLQ_REPLAY_PROBE"  # a type only this test's consumers handle
metadata = MetaData()
INBOX, OUTBOX = inbox_table(metadata), outbox_table(metadata)


class Reader:
    """One consumer group on the topic: every handler call counted, refusing the probe while ``broken``."""

    def __init__(self, group: str, db: Database, bus: KafkaBus, *, broken: bool = False) -> None:
        self.broken = broken
        self.calls: Counter[str] = Counter()
        self.dead_keys: Counter[bytes | None] = Counter()  # the keys of what it dead-lettered
        self.consumer = EventConsumer(
            group=group,
            service=group,
            db=db,
            bus=bus,
            outbox=Outbox(OUTBOX),
            inbox=INBOX,
            handlers={PROBE: [self.handle]},
            topics=[TOPIC],
            log=logging.LoggerAdapter(logging.getLogger(f"test.{group}"), {"service": group}),
            retry_delay=0.01,
        )
        # The topic is shared with the rest of the suite: other tests' records (and their dead letters,
        # which the replay re-delivers too) pass by, so the counts that matter are this test's records'.
        dead_letter = self.consumer.dead_letter

        async def counted(record: IncomingRecord, reason: str, error: str) -> None:
            await dead_letter(record, reason, error)
            self.dead_keys[record.key] += 1

        self.consumer.dead_letter = counted  # type: ignore[method-assign]

    async def handle(self, tx: Tx, envelope: Envelope) -> None:
        self.calls[envelope.id] += 1
        if self.broken:
            raise PoisonMessage("a bug refuses the probe")


@pytest.fixture
async def databases(tmp_path: Path) -> AsyncIterator[list[Database]]:
    found = [Database(f"sqlite+aiosqlite:///{tmp_path / f'{n}.sqlite3'}") for n in ("a", "b")]
    for db in found:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
    yield found
    for db in found:
        await db.dispose()


async def test_a_replayed_dead_letter_goes_only_to_the_group_that_failed(
    kafka_broker: KafkaBroker, databases: list[Database]
) -> None:
    env = plaintext_kafka(kafka_broker)
    runner = CliRunner()
    created = await asyncio.to_thread(runner.invoke, app, ["kafka", "topics", "create"], env=env)
    assert created.exit_code == 0, created.output
    kafka = Settings.from_env("customer", env).kafka
    bus = KafkaBus(kafka)
    suffix = uuid.uuid4().hex[:8]
    failing = Reader(f"replay-a-{suffix}", databases[0], bus, broken=True)
    applying = Reader(f"replay-b-{suffix}", databases[1], bus)
    tasks = [asyncio.create_task(r.consumer.run()) for r in (failing, applying)]
    try:
        probe = Envelope(type=PROBE, source="test", subject=suffix, data={}, topic=TOPIC)
        probe_key = suffix.encode()
        await bus.publish([_record(probe)])

        await eventually(
            until(lambda: failing.dead_keys[probe_key] == 1 and applying.calls[probe.id] == 1),
            timeout=60,
            what="the probe dead-lettered by one group and applied by the other",
        )
        failing.broken = False  # the fix
        result = await asyncio.to_thread(runner.invoke, app, ["kafka", "dlq", "replay", TOPIC], env=env)
        assert result.exit_code == 0, result.output

        replayed = until(lambda: failing.calls[probe.id] == 2)
        await eventually(replayed, timeout=60, what="the replay applied")
        # The other group has read past the copy by now (it follows the same partition): give it its turn.
        marker = Envelope(type=PROBE, source="test", subject=f"{suffix}-after", data={}, topic=TOPIC)
        await bus.publish([_record(marker)])
        after = until(lambda: applying.calls[marker.id] == 1)
        await eventually(after, timeout=60, what="the record after the copy applied")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await bus.close()

    assert failing.calls[probe.id] == 2, "refused once, applied once after the replay"
    assert applying.calls == Counter({probe.id: 1, marker.id: 1}), "the replayed copy was not for it"
    assert failing.dead_keys[probe_key] == 1, "applied after the replay, not dead-lettered again"
    assert applying.consumer.duplicates == 0 and applying.dead_keys[probe_key] == 0


def until(condition: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return condition()

    return probe


def _record(envelope: Envelope) -> OutgoingRecord:
    return OutgoingRecord(envelope.topic, envelope.subject.encode(), envelope.to_json(), envelope.headers())
