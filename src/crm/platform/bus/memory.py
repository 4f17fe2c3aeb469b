"""The in-memory bus of the embedded mode and the unit tests, with Kafka's semantics on one partition.

Each topic is an append-only log; each consumer group has a committed offset per topic; a new subscription
resumes from the committed offset, so uncommitted records are delivered again (at-least-once), as on Kafka.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence

from crm.platform.bus import IncomingRecord, OutgoingRecord


class MemoryBus:
    name = "memory"

    def __init__(self) -> None:
        self.logs: dict[str, list[IncomingRecord]] = defaultdict(list)
        self.committed: dict[tuple[str, str], int] = {}
        self._appended = asyncio.Condition()
        self.fail_publish: BaseException | None = None  # tests: make the next publishes fail

    async def connect(self) -> None:
        return None

    async def publish(self, records: Sequence[OutgoingRecord]) -> None:
        if self.fail_publish is not None:
            raise self.fail_publish
        async with self._appended:
            for r in records:
                log = self.logs[r.topic]
                log.append(IncomingRecord(r.topic, 0, len(log), r.key, r.value, list(r.headers)))
            self._appended.notify_all()

    async def subscribe(self, group: str, topics: Sequence[str]) -> MemorySubscription:
        return MemorySubscription(self, group, list(topics))

    async def close(self) -> None:
        return None

    def records(self, topic: str) -> list[IncomingRecord]:
        return list(self.logs[topic])


class MemorySubscription:
    def __init__(self, bus: MemoryBus, group: str, topics: list[str]) -> None:
        self.bus, self.group, self.topics = bus, group, topics
        self.position = {t: bus.committed.get((group, t), 0) for t in topics}

    def _available(self, max_records: int) -> list[IncomingRecord]:
        out: list[IncomingRecord] = []
        for topic in self.topics:
            log = self.bus.logs[topic]
            start = self.position[topic]
            batch = log[start : start + max_records - len(out)]
            self.position[topic] = start + len(batch)
            out.extend(batch)
            if len(out) >= max_records:
                break
        return out

    async def fetch(self, max_records: int, timeout: float) -> list[IncomingRecord]:
        records = self._available(max_records)
        if records or timeout <= 0:
            return records
        async with self.bus._appended:
            try:
                await asyncio.wait_for(self.bus._appended.wait_for(lambda: self._has_new()), timeout=timeout)
            except TimeoutError:
                return []
        return self._available(max_records)

    def _has_new(self) -> bool:
        return any(len(self.bus.logs[t]) > self.position[t] for t in self.topics)

    async def commit(self, records: Sequence[IncomingRecord]) -> None:
        for r in records:
            key = (self.group, r.topic)
            self.bus.committed[key] = max(self.bus.committed.get(key, 0), r.offset + 1)

    async def close(self) -> None:
        return None
