"""The transactional outbox: an event row commits with the state change; the relay publishes it afterwards.

A write never waits for Kafka and never loses its event: with the broker down, misconfigured or disabled, the
row stays in ``outbox`` until a publish is acknowledged (acks=all, idempotent producer), then it is deleted.
The relay is woken right after each commit that added rows, and polls as a safety net.

Each row keeps the ``traceparent`` of the span that wrote it (the HTTP request, or the handler of the event
that caused it), so the published record carries the trace on into its consumers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.aio import reconnect_delay, wait_until
from crm.platform.bus import Bus, BusError, OutgoingRecord
from crm.platform.db import Database, after_commit
from crm.platform.events import Envelope
from crm.platform.logs import event_context
from crm.platform.metrics import ServiceMetrics
from crm.platform.tracing import (
    Span,
    TraceContext,
    Tracer,
    current_traceparent,
    new_span_id,
    new_trace_id,
    parse_traceparent,
)
from crm.platform.types import UtcDateTime, utcnow

SKIPPING = "⏭️ Skipping event publish (Kafka disabled)"
PRODUCER_CONNECTED = "✅ Kafka Producer connected"

# SQLite only auto-increments an INTEGER PRIMARY KEY.
_SEQ = BigInteger().with_variant(Integer(), "sqlite")


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("seq", _SEQ, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(100), nullable=False),
        Column("topic", String(255), nullable=False),
        Column("key", String(255), nullable=True),
        Column("value", Text, nullable=False),
        Column("headers", Text, nullable=False),
        Column("created_at", UtcDateTime, nullable=False, default=utcnow),
    )


class Outbox:
    """Adds events to the current transaction. One per service, shared by routes and handlers."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.committed = asyncio.Event()  # set after each commit that added rows: the relay's wake-up

    async def add(self, session: AsyncSession, *events: Envelope) -> None:
        """Stage ``events`` in ``session``'s transaction; they exist if and only if it commits."""
        if not events:
            return
        # Outside any span (a start hook, a periodic job) the transaction's events start a trace of their
        # own, so every consumer of them still shares one.
        traceparent = current_traceparent() or TraceContext(new_trace_id(), new_span_id()).traceparent
        await session.execute(
            insert(self.table),
            [
                {
                    "event_id": e.id,
                    "event_type": e.type,
                    "topic": e.topic,
                    "key": e.subject,
                    "value": e.to_json().decode(),
                    "headers": orjson.dumps(
                        [[k, v.decode()] for k, v in e.headers()]
                        + ([["traceparent", traceparent]] if traceparent and not e.traceparent else [])
                    ).decode(),
                }
                for e in events
            ],
        )
        after_commit(session, self.committed.set)

    async def backlog(self, db: Database) -> tuple[int, Any]:
        """(rows waiting, creation time of the oldest)."""
        async with db.sessions() as session:
            row = (await session.execute(select(func.count(), func.min(self.table.c.created_at)))).one()
        return int(row[0]), row[1]


class OutboxRelay:
    """Publishes outbox rows in commit order, in batches; retries forever with capped backoff."""

    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        bus: Bus | None,
        log: logging.LoggerAdapter[logging.Logger],
        *,
        poll_interval: float = 1.0,
        batch_size: int = 500,
        tracer: Tracer | None = None,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self.db, self.outbox, self.bus, self.log = db, outbox, bus, log
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        service = str(log.extra.get("service", "-")) if log.extra else "-"
        self.tracer = tracer or Tracer(service)
        self.metrics = metrics or ServiceMetrics(service)
        self.connected = False
        self.published = 0

    async def run(self) -> None:
        """Run until cancelled."""
        failures = 0
        while True:
            if self.bus is None:
                # Nothing to publish to: the backlog is looked at once per poll interval, not after every
                # commit (its count scans an outbox that only grows while Kafka is disabled).
                await asyncio.sleep(self.poll_interval)
                with contextlib.suppress(Exception):  # the database down: the requests already say so
                    await self._report_disabled()
                continue
            await wait_until(self.outbox.committed.wait(), self.poll_interval)
            self.outbox.committed.clear()
            try:
                while await self.publish_pending() == self.batch_size:
                    pass
                failures = 0
            except BusError as exc:
                failures += 1
                await self._back_off(str(exc), failures)
            except Exception as exc:  # database down, etc.: the rows are safe; try again
                failures += 1
                await self._back_off(f"❌ Outbox relay error: {type(exc).__name__}: {exc}", failures)

    async def publish_pending(self) -> int:
        """Publish one batch of the oldest rows; returns how many were published. Raises BusError."""
        assert self.bus is not None
        if not self.connected:
            await self.bus.connect()
            self.connected = True
            if self.bus.name == "kafka":
                self.log.info(PRODUCER_CONNECTED)
        t = self.outbox.table
        async with self.db.transaction() as session:
            query = select(t).order_by(t.c.seq).limit(self.batch_size)
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)  # several relay instances may run
            rows = (await session.execute(query)).all()
            if not rows:
                return 0
            records = _records(rows)
            spans = self._publish_spans(rows, records) if self.tracer.exporting else []
            try:
                await self.bus.publish(records)
            except BaseException as exc:
                for span in spans:
                    span.end(exc)
                raise
            for span in spans:
                span.end()
            await session.execute(delete(t).where(t.c.seq.in_([r.seq for r in rows])))
        for row, record in zip(rows, records, strict=True):
            trace = parse_traceparent(_header(record, "traceparent"))
            with event_context(trace, row.event_id, row.event_type):
                self.log.info("📤 Event published: %s to topic %s", row.event_type, row.topic)
            self.metrics.published(row.topic, row.event_type)
        if self.bus.name == "kafka":
            self.metrics.kafka_messages("produced", len(rows), self.log)
        self.published += len(rows)
        return len(rows)

    def _publish_spans(self, rows: Sequence[Any], records: list[OutgoingRecord]) -> list[Span]:
        """OpenTelemetry producer spans, one per record, from the row's commit (the outbox wait shows) to the
        acknowledgement; each record then carries its publish span as ``traceparent``."""
        assert self.bus is not None
        spans = []
        for row, record in zip(rows, records, strict=True):
            span = self.tracer.begin(
                f"{row.topic} publish",
                kind="producer",
                parent=parse_traceparent(_header(record, "traceparent")),
                attributes={
                    "messaging.system": self.bus.name,
                    "messaging.operation.type": "send",
                    "messaging.destination.name": row.topic,
                    "messaging.message.id": row.event_id,
                    "crm.event_type": row.event_type,
                },
                start_time_ns=int(row.created_at.timestamp() * 1e9) if row.created_at else None,
            )
            kept = [h for h in record.headers if h[0] != "traceparent"]
            record.headers[:] = [*kept, ("traceparent", span.context.traceparent.encode())]
            spans.append(span)
        return spans

    async def _report_disabled(self) -> None:
        count, _ = await self.outbox.backlog(self.db)
        if count:
            self.log.info(SKIPPING)
            self.log.debug("%d event(s) kept in the outbox until Kafka is enabled", count)

    async def _back_off(self, message: str, failures: int) -> None:
        self.connected = False
        if self.bus is not None:
            await self.bus.close()
        delay = reconnect_delay(failures)
        self.log.error(message)
        self.log.warning("🔁 Outbox relay retrying in %.1fs; the events wait in the outbox", delay)
        await asyncio.sleep(delay)  # not cut short by new commits: under load they come every millisecond


def _header(record: OutgoingRecord, name: str) -> bytes | None:
    return next((v for k, v in record.headers if k == name), None)


def _records(rows: Sequence[Any]) -> list[OutgoingRecord]:
    return [
        OutgoingRecord(
            topic=row.topic,
            key=row.key.encode() if row.key else None,
            value=row.value.encode(),
            headers=[(k, v.encode()) for k, v in orjson.loads(row.headers)],
        )
        for row in rows
    ]
