"""One reader of the bus per gateway process, shared by every open live stream.

Every open stream reading the topics itself would multiply, by the number of open browser tabs, the records
consumed from Kafka (which a hosted plan counts against its quota), the broker connections and the JSON
decoding. Instead the :class:`Hub` tails the streamed topics once and keeps the latest records, decoded, in
memory (``capacity`` of them); each stream is a :class:`Follower` walking that buffer from its own position.

A stream that resumes from a cursor older than the buffer (a client back after a while, a hub started after
it left), or that falls behind it (a slow client), reads the bus itself from its cursor
(:class:`crm.platform.bus.Tailing` from offsets) until it reaches what the buffer holds, then follows the hub:
positions are exact offsets per partition, so nothing is skipped or read twice at the switch.

The hub runs while at least one stream is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from crm.platform.aio import reconnect_delay, wait_until
from crm.platform.bus import FROM_THE_END, IncomingRecord, Position, Tailing, TailReader
from crm.platform.events import Envelope, EnvelopeError

log = logging.getLogger("crm.gateway")
CAPACITY = 2_000  # records kept: a few minutes of a busy team, a few MB (older resumes read the bus)


@dataclass(frozen=True)
class Item:
    topic: str
    partition: int
    offset: int
    envelope: Envelope | None  # None: not an event (the consumers dead-letter it; streams skip it)


def item_of(record: IncomingRecord) -> Item:
    try:
        envelope: Envelope | None = Envelope.from_record(record.topic, record.value, record.headers)
    except EnvelopeError:
        envelope = None
    return Item(record.topic, record.partition, record.offset, envelope)


class Hub:
    def __init__(self, bus: Tailing, topics: Sequence[str], capacity: int = CAPACITY) -> None:
        self.bus, self.topics, self.capacity = bus, list(topics), capacity
        self.items: deque[Item] = deque()
        self.first_seq = 0  # the sequence number of items[0]
        self.base: dict[Position, int] = {}  # per partition: the first offset the buffer can serve
        self.head: dict[Position, int] = {}  # per partition: the next offset the hub reads
        self.appended = asyncio.Event()  # replaced on each append: take it BEFORE looking at the buffer
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def next_seq(self) -> int:
        return self.first_seq + len(self.items)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())
            self._task.set_name("live-stream-hub")

    def stop(self) -> None:
        """Stop reading (a stopped hub does not start again: make a new one)."""
        if self._task is not None:
            self._task.cancel()

    async def close(self) -> None:
        """Stop, and wait until its reader is closed."""
        self.stop()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await wait_until(self._task, 5)

    def covers(self, positions: dict[Position, int]) -> bool:
        """Whether everything after ``positions`` is in the buffer (or still to come)."""
        return all(positions.get(p, head) >= self.base[p] for p, head in self.head.items())

    async def _run(self) -> None:
        failures = 0
        while True:
            reader: TailReader | None = None
            try:
                # From the end at first; after a failure, exactly where it stopped.
                reader = await self.bus.tail(self.topics, FROM_THE_END, self.head or None)
                for p, offset in (await reader.positions()).items():
                    self.head.setdefault(p, offset)
                    self.base.setdefault(p, offset)
                self.ready.set()
                failures = 0
                while True:
                    records = await reader.fetch(max_records=500, timeout=1.0)
                    if records:
                        self._append(records)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                delay = reconnect_delay(failures)
                log.warning("🔁 Live stream reader: %s; reconnecting in %.1fs", exc, delay)
                await asyncio.sleep(delay)
            finally:
                if reader is not None:
                    with contextlib.suppress(Exception):
                        await reader.close()

    def _append(self, records: Sequence[IncomingRecord]) -> None:
        for record in records:
            p = (record.topic, record.partition)
            if record.offset < self.head.get(p, 0):
                continue
            self.items.append(item_of(record))
            self.head[p] = record.offset + 1
            self.base.setdefault(p, record.offset)
        while len(self.items) > self.capacity:
            old = self.items.popleft()
            self.first_seq += 1
            self.base[(old.topic, old.partition)] = old.offset + 1
        self.appended.set()
        self.appended = asyncio.Event()


class Follower:
    """One stream's way through the records, from ``positions`` (the next offset per partition) on."""

    def __init__(self, hub: Hub, positions: dict[Position, int]) -> None:
        self.hub, self.positions = hub, positions
        self.seq = hub.first_seq
        self.reader: TailReader | None = None

    @classmethod
    async def open(cls, hub: Hub, start: dict[Position, int] | None, ready_within: float) -> Follower:
        """From the end (``start`` None) or from a cursor; raises TimeoutError when the hub cannot read."""
        if not await wait_until(hub.ready.wait(), ready_within):
            raise TimeoutError("the event bus cannot be read now")
        if start is None:
            follower = cls(hub, dict(hub.head))
            follower.seq = hub.next_seq
            return follower
        # A partition the cursor does not name starts at its end; one past its end, at its end.
        follower = cls(hub, {p: min(start.get(p, head), head) for p, head in hub.head.items()})
        if not hub.covers(follower.positions):
            await follower._read_alone()
        return follower

    async def fetch(self, timeout: float) -> list[Item]:
        """The next items after this follower's positions (none after ``timeout``); raises what the bus
        raises while the follower reads alone."""
        if self.reader is not None:
            return await self._catch_up(timeout)
        hub = self.hub
        if self.seq < hub.first_seq:  # a slow stream the buffer left behind: read the bus itself
            await self._read_alone()
            return await self._catch_up(timeout)
        appended = hub.appended
        if self.seq >= hub.next_seq and not await wait_until(appended.wait(), timeout):
            return []
        if self.seq < hub.first_seq:  # left behind while it waited
            await self._read_alone()
            return await self._catch_up(timeout)
        items: list[Item] = []
        for index in range(self.seq - hub.first_seq, len(hub.items)):
            item = hub.items[index]
            p = (item.topic, item.partition)
            if item.offset >= self.positions.get(p, 0):
                items.append(item)
                self.positions[p] = item.offset + 1
        self.seq = hub.next_seq
        return items

    async def close(self) -> None:
        if self.reader is not None:
            with contextlib.suppress(Exception):
                await self.reader.close()
            self.reader = None

    async def _read_alone(self) -> None:
        self.reader = await self.hub.bus.tail(self.hub.topics, FROM_THE_END, self.positions)

    async def _catch_up(self, timeout: float) -> list[Item]:
        assert self.reader is not None
        items = [item_of(r) for r in await self.reader.fetch(max_records=500, timeout=timeout)]
        for item in items:
            self.positions[(item.topic, item.partition)] = item.offset + 1
        if self.hub.covers(self.positions):  # caught up: the buffer holds what comes next
            self.seq, reader, self.reader = self.hub.first_seq, self.reader, None
            with contextlib.suppress(Exception):
                await reader.close()
        return items
