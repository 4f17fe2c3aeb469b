"""Recompute every read model from the topics: clear them and the inbox, then replay every topic from its
beginning through the same handlers, under a fresh consumer group that leaves the live one untouched.

What survives: ``notification_reads`` (read state, keyed by source event, so a rebuilt notification comes
back read) and the live group's offsets. The replay claims inbox rows under the live consumer's name, so a
live consumer running meanwhile and the replay never apply the same event twice. A rebuild is as complete
as the topics' retention (7 days by default): ``RebuildReport.incomplete_topics`` names topics whose
retained history does not start at offset 0.

Call it from the CLI (``crm analytics rebuild``) with the analytics database and a bus::

    settings = Settings.from_env("analytics")
    db = Database(settings.database_url)
    await db.migrate(SPEC.migrations, lock_name="crm-migrate-analytics")
    report = await rebuild(db, bus, inbox_consumer=settings.kafka.client_id)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, text

from crm.contracts import topic_of
from crm.platform.bus import Bus, IncomingRecord
from crm.platform.consumer import EventConsumer
from crm.platform.db import Database
from crm.platform.logs import service_logger
from crm.platform.outbox import Outbox
from crm.platform.runtime import ServiceRuntime
from crm.platform.types import utcnow
from crm.services.analytics.handlers import EVENT_HANDLERS, PREPARE_BATCH
from crm.services.analytics.models import INBOX, OUTBOX, READ_MODELS

LIVE_CONSUMER = "analytics-service"  # the default KAFKA_CLIENT_ID of analytics: its group and inbox name
_log = service_logger("crm.analytics", "analytics-service")
# The replay's per-event lines ("📥 Event received") stay out of the log; progress is logged per batch.
_replay_log = service_logger("crm.analytics.rebuild", "analytics-service")


@dataclass
class RebuildReport:
    group: str  # the throwaway consumer group that read the topics
    topics: list[str]
    records: int = 0  # read from the topics
    applied: int = 0  # events applied to the read models
    duplicates: int = 0  # already applied meanwhile by the live consumer (or repeated on a topic)
    skipped: int = 0  # poison records (the live consumer dead-lettered them already)
    incomplete_topics: list[str] = field(default_factory=list)  # history pruned by retention
    seconds: float = 0.0


def consumed_topics() -> list[str]:
    """Every topic analytics consumes: all of the catalog's."""
    return sorted({topic_of(event_type) for event_type in EVENT_HANDLERS})


async def rebuild(
    runtime_or_db: ServiceRuntime | Database,
    bus: Bus,
    topics: Sequence[str] | None = None,
    *,
    inbox_consumer: str | None = None,
    group: str | None = None,
    idle_timeout: float = 1.0,
    join_timeout: float | None = None,
    batch_size: int = 500,
) -> RebuildReport:
    """Clear the read models and the inbox, then apply every retained record of ``topics`` (default: all
    five) until none arrives for ``idle_timeout`` seconds. ``inbox_consumer`` must be the live consumer's
    group (``KAFKA_CLIENT_ID``; taken from the runtime when one is given). Safe while the live consumer
    runs. Raises BusError, before clearing anything, when the topics cannot be subscribed to."""
    started = time.perf_counter()
    logging.getLogger("crm.analytics.rebuild").setLevel(logging.WARNING)
    if isinstance(runtime_or_db, ServiceRuntime):
        db = runtime_or_db.db
        inbox_consumer = inbox_consumer or runtime_or_db.settings.kafka.client_id
    else:
        db = runtime_or_db
    report = RebuildReport(
        group=group or f"analytics-service-rebuild-{utcnow():%Y%m%d%H%M%S%f}",
        topics=list(topics or consumed_topics()),
    )
    replay = _ReplayConsumer(
        group=inbox_consumer or LIVE_CONSUMER,
        service="analytics",
        db=db,
        bus=bus,
        outbox=Outbox(OUTBOX),
        inbox=INBOX,
        handlers=EVENT_HANDLERS,
        prepare=PREPARE_BATCH,
        topics=report.topics,
        log=_replay_log,
    )
    # A new Kafka group gets its partitions only after a rebalance (seconds): until the first record, an
    # empty fetch means "not assigned yet" as much as "nothing there".
    first_wait = join_timeout if join_timeout is not None else (30.0 if bus.name == "kafka" else idle_timeout)
    first_offsets: dict[tuple[str, int], int] = {}
    subscription = await bus.subscribe(report.group, report.topics)
    try:
        _log.warning("🔁 Rebuilding the analytics read models from %s", ", ".join(report.topics))
        await clear_read_models(db)
        timeout = first_wait
        while records := await subscription.fetch(max_records=batch_size, timeout=timeout):
            timeout = idle_timeout
            for record in records:
                first_offsets.setdefault((record.topic, record.partition), record.offset)
            await replay.process_batch(records)
            report.records += len(records)
            _log.info("🔁 Rebuild: %d records replayed", report.records)
    finally:
        await subscription.close()
    report.applied, report.duplicates = replay.applied, replay.duplicates
    report.skipped = replay.dead_lettered
    report.incomplete_topics = sorted({topic for (topic, _), offset in first_offsets.items() if offset > 0})
    report.seconds = round(time.perf_counter() - started, 3)
    _log.warning(
        "✅ Rebuild done: %d records, %d applied, %d duplicates, %d skipped in %.1fs%s",
        report.records,
        report.applied,
        report.duplicates,
        report.skipped,
        report.seconds,
        f" (history pruned on {', '.join(report.incomplete_topics)})" if report.incomplete_topics else "",
    )
    return report


async def clear_read_models(db: Database) -> None:
    """Empty the read models and the inbox in one transaction (notification read state is kept).
    On PostgreSQL the tables are locked first, so a live consumer's transaction is either wholly before
    the clear (and replayed) or wholly after it (and its inbox row makes the replay skip the event)."""
    async with db.transaction() as session:
        tables = [model.__tablename__ for model in READ_MODELS] + [INBOX.name]
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            lock = f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE"
            await session.execute(text(lock))
        for model in READ_MODELS:
            await session.execute(delete(model))
        await session.execute(delete(INBOX))


class _ReplayConsumer(EventConsumer):
    """The live consumer's handlers and inbox name. A poison record is skipped, not dead-lettered again."""

    async def dead_letter(self, record: IncomingRecord, reason: str, error: str) -> None:
        self.dead_lettered += 1
        _log.warning("⏭️ Rebuild skipped %s:%d@%d (%s)", record.topic, record.partition, record.offset, reason)
