"""The event bus ports: a :class:`Bus` publishes records and opens :class:`Subscription` s per consumer group.

Two adapters share these semantics (topics, one consumer group per service, at-least-once delivery, offsets
committed by the consumer after its effects are durable): ``kafka.KafkaBus`` and, for the embedded mode and
the tests, ``local_log.LocalLogBus`` (one partition per topic in a SQLite file, so a crash loses nothing).
Both can be *tailed* (:class:`Tailing`): read with no consumer group, so every instance sees every record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class OutgoingRecord:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass(frozen=True)
class IncomingRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


# On a dead letter re-delivered by ``crm kafka dlq replay``: the one consumer group it is re-delivered to (the
# group that dead-lettered it). Every other group reading the topic skips the record without effect.
REPLAY_FOR = "crm_replay_for"


def addressed_to(record: IncomingRecord, group: str) -> bool:
    """False for a replayed dead letter meant for another consumer group than ``group``."""
    return all(v.decode("utf-8", "replace") == group for k, v in record.headers if k == REPLAY_FOR)


class BusError(RuntimeError):
    """The bus could not do what was asked; ``str(exc)`` is the guide's line for it (``❌ ...``)."""


class Subscription(Protocol):
    async def fetch(self, max_records: int, timeout: float) -> list[IncomingRecord]:
        """Next records after the last fetched ones, waiting up to ``timeout`` seconds for the first."""
        ...

    async def commit(self, records: Sequence[IncomingRecord]) -> None:
        """Mark ``records`` (and all before them in their partitions) as done for this group."""
        ...

    async def close(self) -> None: ...


class Bus(Protocol):
    name: str

    async def connect(self) -> None:
        """Connect the producer; raises :class:`BusError` with the guide's message on failure."""
        ...

    async def publish(self, records: Sequence[OutgoingRecord]) -> None:
        """Publish all ``records``; returns only when every one is acknowledged, raises otherwise."""
        ...

    async def subscribe(self, group: str, topics: Sequence[str]) -> Subscription:
        """Join ``group`` on ``topics``; raises :class:`BusError` on failure."""
        ...

    async def close(self) -> None: ...


Position = tuple[str, int]  # (topic, partition)
FROM_THE_END = datetime.max.replace(tzinfo=UTC)  # a `since` after every record: start at each partition's end


class TailReader(Subscription, Protocol):
    async def positions(self) -> dict[Position, int]:
        """Per (topic, partition) read: the offset of the next record this reader returns."""
        ...


@runtime_checkable
class Tailing(Protocol):
    async def tail(
        self, topics: Sequence[str], since: datetime, offsets: Mapping[Position, int] | None = None
    ) -> TailReader:
        """A reader of its own, in no consumer group and committing nothing, from the first record of each
        topic appended at or after ``since`` (:data:`FROM_THE_END`: the records appended from now on; "now"
        itself would include the current second's): every process that tails a topic sees every record of it.
        ``offsets``: where to start instead, for the partitions it names (a reader resuming where another
        stopped, from that one's :meth:`TailReader.positions`); an offset past a partition's end starts at its
        end, one whose records retention deleted at the first one left (Kafka: at the end)."""
        ...
