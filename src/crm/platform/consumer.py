"""The event consumer: delivers records to a service's handlers exactly once in effect.

For each record: decode the envelope, claim it in the inbox and run the handlers in ONE transaction, then
commit the offset. A crash anywhere before the offset commit means redelivery, which the inbox turns into a
no-op. Poison records (not an envelope, a payload that fails validation, a handler that keeps failing) go
to ``<topic>.dlq`` with the reason in headers after bounded retries, and the consumer moves on. Transient
failures (the database or broker unreachable) are retried without limit: they are not the message's fault.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence

from pydantic import ValidationError
from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError, OperationalError

from crm.platform.bus import Bus, BusError, IncomingRecord, OutgoingRecord, Subscription
from crm.platform.db import Database
from crm.platform.events import Envelope, EnvelopeError
from crm.platform.inbox import claim
from crm.platform.outbox import Outbox
from crm.platform.unit_of_work import Tx

CONSUMER_CONNECTED = "✅ Kafka Consumer connected"


# A handler writes its effect (and any events it emits) in the Tx it is given; it never commits.
Handler = Callable[[Tx, Envelope], Awaitable[None]]


class PoisonMessage(Exception):
    """Raised by a handler for an event it can never apply (dead-lettered at once, no retries)."""


class EventConsumer:
    def __init__(
        self,
        *,
        group: str,
        service: str,
        db: Database,
        bus: Bus,
        outbox: Outbox,
        inbox: Table,
        handlers: Mapping[str, Sequence[Handler]],
        topics: Sequence[str],
        log: logging.LoggerAdapter[logging.Logger],
        max_attempts: int = 5,
        retry_delay: float = 0.2,
    ) -> None:
        self.group, self.service, self.db, self.bus = group, service, db, bus
        self.outbox, self.inbox, self.handlers, self.topics = outbox, inbox, handlers, list(topics)
        self.log = log
        self.max_attempts, self.retry_delay = max_attempts, retry_delay
        self.applied = 0
        self.duplicates = 0
        self.dead_lettered = 0
        self.connected = asyncio.Event()

    async def run(self) -> None:
        """Consume until cancelled; reconnects with backoff after any failure of the bus."""
        failures = 0
        while True:
            subscription: Subscription | None = None
            try:
                subscription = await self.bus.subscribe(self.group, self.topics)
                if self.bus.name == "kafka":
                    self.log.info(CONSUMER_CONNECTED)
                self.connected.set()
                failures = 0
                while True:
                    records = await subscription.fetch(max_records=200, timeout=1.0)
                    for record in records:
                        await self.process(record)
                    await subscription.commit(records)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                self.connected.clear()
                delay = min(30.0, 0.5 * 2 ** min(failures, 6)) * random.uniform(0.8, 1.2)
                message = str(exc) if isinstance(exc, BusError) else f"{type(exc).__name__}: {exc}"
                self.log.error(message if message.startswith("❌") else f"❌ Consumer error: {message}")
                self.log.warning("🔁 Consumer %s reconnecting in %.1fs", self.group, delay)
                await asyncio.sleep(delay)
            finally:
                if subscription is not None:
                    await subscription.close()

    async def process(self, record: IncomingRecord) -> None:
        """Apply one record; returns when it is applied, skipped as a duplicate or dead-lettered."""
        try:
            envelope = Envelope.from_record(record.topic, record.value, record.headers)
        except EnvelopeError as exc:
            await self.dead_letter(record, "invalid-envelope", str(exc))
            return
        handlers = self.handlers.get(envelope.type)
        if not handlers:
            return  # another service's business
        self.log.info("📥 Event received: %s from topic %s", envelope.type, record.topic)
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._apply(envelope, handlers)
                return
            except (PoisonMessage, ValidationError) as exc:
                await self.dead_letter(record, "invalid-payload", f"{type(exc).__name__}: {exc}")
                return
            except (OperationalError, DBAPIError, OSError) as exc:
                if _is_transient(exc):
                    self.log.warning("🔁 %s on %s, retrying: %s", type(exc).__name__, envelope.type, exc)
                    await asyncio.sleep(min(5.0, self.retry_delay * 2 ** min(attempt, 5)))
                    continue
                if attempt >= self.max_attempts:
                    await self.dead_letter(record, "handler-failed", f"{type(exc).__name__}: {exc}")
                    return
            except Exception as exc:
                if attempt >= self.max_attempts:
                    self.log.exception("❌ Handler failed %d times on %s", attempt, envelope.type)
                    await self.dead_letter(record, "handler-failed", f"{type(exc).__name__}: {exc}")
                    return
                self.log.warning("🔁 Handler failed on %s (attempt %d): %s", envelope.type, attempt, exc)
            await asyncio.sleep(self.retry_delay * attempt)

    async def _apply(self, envelope: Envelope, handlers: Sequence[Handler]) -> None:
        async with self.db.transaction() as session:
            if not await claim(session, self.inbox, self.group, envelope.id, envelope.type):
                self.duplicates += 1
                self.log.debug("Duplicate %s %s skipped", envelope.type, envelope.id)
                return
            tx = Tx(session, self.outbox, self.service)
            for handler in handlers:
                await handler(tx, envelope)
        self.applied += 1

    async def dead_letter(self, record: IncomingRecord, reason: str, error: str) -> None:
        """Send ``record`` unchanged to ``<topic>.dlq`` with why in headers. Raises if the DLQ is down,
        so the offset is not committed and the record comes back."""
        headers = [h for h in record.headers if not h[0].startswith("dlq_")] + [
            ("dlq_reason", reason.encode()),
            ("dlq_error", error[:2000].encode()),
            ("dlq_consumer", self.group.encode()),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
        ]
        await self.bus.publish(
            [OutgoingRecord(f"{record.topic}.dlq", record.key, record.value or b"", headers)]
        )
        self.dead_lettered += 1
        self.log.error(
            "☠️ Dead-lettered record %s:%d@%d to %s.dlq (%s): %s",
            record.topic,
            record.partition,
            record.offset,
            record.topic,
            reason,
            error[:300],
        )


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    text = str(exc).lower()
    return any(k in text for k in ("connection", "database is locked", "terminating", "shutting down"))
