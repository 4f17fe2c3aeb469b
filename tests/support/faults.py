"""Faults to inject in-process: a bus that cannot be reached, and one that only takes dead letters."""

from __future__ import annotations

from collections.abc import Sequence

from crm.platform.bus import Bus, BusError, OutgoingRecord, Subscription


class UnreachableBus:
    """Wraps a bus and fails every publish the way an unreachable Kafka does."""

    def __init__(self, real: Bus) -> None:
        self.real = real
        self.name = real.name
        self.attempts = 0

    async def connect(self) -> None:
        self.attempts += 1
        raise BusError("❌ Request timed out")

    async def publish(self, records: Sequence[OutgoingRecord]) -> None:
        self.attempts += 1
        raise BusError("❌ Request timed out")

    async def subscribe(self, group: str, topics: Sequence[str]) -> Subscription:
        return await self.real.subscribe(group, topics)

    async def close(self) -> None:
        return None


class DeadLetters:
    """The bus as the consumer sees it when dead-lettering: it only publishes."""

    name = "local"

    def __init__(self) -> None:
        self.published: list[OutgoingRecord] = []

    async def publish(self, records: Sequence[OutgoingRecord]) -> None:
        self.published.extend(records)
