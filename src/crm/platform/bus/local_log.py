"""The embedded mode's durable bus: Kafka's semantics on one partition per topic, kept in a SQLite file.

A crash of the one embedded process loses nothing: a record the relay published is on disk before the outbox
row is deleted, and a consumer group's offset moves only when the consumer commits, so whatever was not
applied is delivered again after a restart (and the inbox makes that harmless). Records older than the
retention (7 days, as the topics) are pruned.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import orjson
from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, Text, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crm.platform.aio import wait_until
from crm.platform.bus import IncomingRecord, OutgoingRecord, Position
from crm.platform.db import Database

_metadata = MetaData()
records = Table(
    "bus_records",
    _metadata,
    Column("topic", String(255), primary_key=True),
    Column("offset", Integer, primary_key=True),
    Column("key", LargeBinary, nullable=True),
    Column("value", LargeBinary, nullable=False),
    Column("headers", Text, nullable=False),
    Column("appended_at", Integer, nullable=False),
)
heads = Table(  # each topic's next offset: survives retention emptying the topic
    "bus_topics",
    _metadata,
    Column("topic", String(255), primary_key=True),
    Column("next_offset", Integer, nullable=False),
)
offsets = Table(
    "bus_offsets",
    _metadata,
    Column("group_id", String(255), primary_key=True),
    Column("topic", String(255), primary_key=True),
    Column("next_offset", Integer, nullable=False),
)
RETENTION_SECONDS = 7 * 24 * 3600


class LocalLogBus:
    name = "local"

    def __init__(self, path: Path) -> None:
        self.db = Database(f"sqlite+aiosqlite:///{path}")  # appends and offset commits, one at a time
        # Reads beside them (WAL): a reader never holds up a publish, the next hop of an event's trip.
        self.reads = Database(f"sqlite+aiosqlite:///{path}", readers=2)
        # Set (and replaced) on every append: a fetch takes the current one BEFORE reading, so it cannot
        # miss an append that happens between its read and its wait.
        self.appended = asyncio.Event()
        # Each topic's next offset as far as this process knows (loaded at connect, moved by each publish
        # and read): a reader woken by an append to another topic skips its read. A publish, every reader
        # and every offset commit queue on the one bus connection, so reads that find nothing delay them all.
        self.heads: dict[str, int] = {}
        self._ready = False
        self._published_since_prune = 0

    async def connect(self) -> None:
        if not self._ready:
            async with self.db.engine.begin() as conn:
                await conn.run_sync(_metadata.create_all)
                known = await conn.execute(select(heads.c.topic, heads.c.next_offset))
                self.heads = {topic: int(next_offset) for topic, next_offset in known}
            self._ready = True

    async def publish(self, batch: Sequence[OutgoingRecord]) -> None:
        await self.connect()
        now = int(time.time())
        async with self.db.transaction() as session:
            next_offsets: dict[str, int] = {}
            rows = []
            for r in batch:
                if r.topic not in next_offsets:
                    head = await session.scalar(select(heads.c.next_offset).where(heads.c.topic == r.topic))
                    if head is None:  # a log written before bus_topics existed
                        last = await session.scalar(
                            select(func.max(records.c.offset)).where(records.c.topic == r.topic)
                        )
                        head = 0 if last is None else int(last) + 1
                    next_offsets[r.topic] = int(head)
                rows.append(
                    {
                        "topic": r.topic,
                        "offset": next_offsets[r.topic],
                        "key": r.key,
                        "value": r.value,
                        "headers": orjson.dumps([[k, v.decode("latin-1")] for k, v in r.headers]).decode(),
                        "appended_at": now,
                    }
                )
                next_offsets[r.topic] += 1
            for topic, next_offset in next_offsets.items():
                statement = sqlite_insert(heads).values(topic=topic, next_offset=next_offset)
                await session.execute(
                    statement.on_conflict_do_update(
                        index_elements=["topic"], set_={"next_offset": next_offset}
                    )
                )
            if rows:
                await session.execute(records.insert(), rows)
        for topic, next_offset in next_offsets.items():
            self.heads[topic] = max(self.heads.get(topic, 0), next_offset)
        self.appended.set()
        self.appended = asyncio.Event()
        self._published_since_prune += len(batch)
        if self._published_since_prune > 10_000:
            self._published_since_prune = 0
            await self.prune()

    async def prune(self) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                records.delete().where(records.c.appended_at < int(time.time()) - RETENTION_SECONDS)
            )

    async def subscribe(self, group: str, topics: Sequence[str]) -> LocalLogSubscription:
        await self.connect()
        async with self.reads.sessions() as session:
            rows = await session.execute(
                select(offsets.c.topic, offsets.c.next_offset).where(offsets.c.group_id == group)
            )
            committed = {topic: int(offset) for topic, offset in rows}
        return LocalLogSubscription(self, group, {t: committed.get(t, 0) for t in topics})

    async def tail(
        self, topics: Sequence[str], since: datetime, offsets: Mapping[Position, int] | None = None
    ) -> LocalLogTail:
        """Every record appended at or after ``since`` (or from ``offsets``), then each new one; no group,
        nothing committed."""
        await self.connect()
        positions: dict[str, int] = {}
        async with self.reads.sessions() as session:
            for topic in topics:
                if offsets is not None and (topic, 0) in offsets:
                    head = await session.scalar(select(heads.c.next_offset).where(heads.c.topic == topic))
                    positions[topic] = min(offsets[(topic, 0)], int(head or 0))
                    continue
                first = await session.scalar(
                    select(func.min(records.c.offset)).where(
                        records.c.topic == topic, records.c.appended_at >= int(since.timestamp())
                    )
                )
                if first is None:  # nothing that recent: from the head on
                    first = await session.scalar(select(heads.c.next_offset).where(heads.c.topic == topic))
                if first is None:
                    last = await session.scalar(
                        select(func.max(records.c.offset)).where(records.c.topic == topic)
                    )
                    first = 0 if last is None else int(last) + 1
                positions[topic] = int(first)
        return LocalLogTail(self, "", positions)

    async def records(self, topic: str) -> list[IncomingRecord]:
        """Every retained record of ``topic`` (tests, DLQ inspection)."""
        await self.connect()
        async with self.reads.sessions() as session:
            rows = await session.execute(
                select(records).where(records.c.topic == topic).order_by(records.c.offset)
            )
            return [_incoming(row) for row in rows]

    async def close(self) -> None:
        return None

    async def dispose(self) -> None:
        await self.reads.dispose()
        await self.db.dispose()


class LocalLogSubscription:
    def __init__(self, bus: LocalLogBus, group: str, positions: dict[str, int]) -> None:
        self.bus, self.group, self.position = bus, group, positions

    async def _read(self, max_records: int) -> list[IncomingRecord]:
        out: list[IncomingRecord] = []
        async with self.bus.reads.sessions() as session:
            for topic, position in self.position.items():
                limit = max_records - len(out)
                rows = await session.execute(
                    select(records)
                    .where(records.c.topic == topic, records.c.offset >= position)
                    .order_by(records.c.offset)
                    .limit(limit)
                )
                batch = [_incoming(row) for row in rows]
                if batch:
                    self.position[topic] = batch[-1].offset + 1
                if len(batch) < limit:  # read to the end: the head is no further than the position now
                    self.bus.heads[topic] = max(self.bus.heads.get(topic, 0), self.position[topic])
                out.extend(batch)
                if len(out) >= max_records:
                    break
        return out

    def _behind(self) -> bool:
        """True if a topic may hold records past this reader's position (or its head is not known)."""
        heads = self.bus.heads
        return any(topic not in heads or position < heads[topic] for topic, position in self.position.items())

    async def fetch(self, max_records: int, timeout: float) -> list[IncomingRecord]:
        """Records past the position, waiting up to ``timeout`` for an append to one of the topics. When the
        wait times out it reads all the same: another process (a CLI) may have appended to the file."""
        if timeout <= 0:
            return await self._read(max_records)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            appended = self.bus.appended  # taken BEFORE reading: an append during the read still wakes us
            if self._behind():
                found = await self._read(max_records)
                if found:
                    return found
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 or not await wait_until(appended.wait(), remaining):
                return await self._read(max_records)

    async def commit(self, batch: Sequence[IncomingRecord]) -> None:
        latest: dict[str, int] = {}
        for r in batch:
            latest[r.topic] = max(latest.get(r.topic, 0), r.offset + 1)
        if not latest:
            return
        async with self.bus.db.transaction() as session:
            for topic, next_offset in latest.items():
                statement = sqlite_insert(offsets).values(
                    group_id=self.group, topic=topic, next_offset=next_offset
                )
                await session.execute(
                    statement.on_conflict_do_update(
                        index_elements=["group_id", "topic"],
                        set_={"next_offset": statement.excluded.next_offset},
                    )
                )

    async def close(self) -> None:
        return None


class LocalLogTail(LocalLogSubscription):
    """A tail reader: its position lives in this process only."""

    async def commit(self, batch: Sequence[IncomingRecord]) -> None:
        return None

    async def positions(self) -> dict[Position, int]:
        return {(topic, 0): offset for topic, offset in self.position.items()}


def _incoming(row: object) -> IncomingRecord:
    return IncomingRecord(
        topic=row.topic,  # type: ignore[attr-defined]
        partition=0,
        offset=int(row.offset),  # type: ignore[attr-defined]
        key=row.key,  # type: ignore[attr-defined]
        value=row.value,  # type: ignore[attr-defined]
        headers=[(k, v.encode("latin-1")) for k, v in orjson.loads(row.headers)],  # type: ignore[attr-defined]
    )
