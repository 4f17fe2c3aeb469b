"""A service at run time: its database, outbox relay, event consumer and background jobs, started and
stopped together. The same code serves the embedded mode (a shared in-memory bus) and the distributed mode
(Kafka, or none when ``KAFKA_ENABLED=false``): only the ``bus`` handed in differs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from sqlalchemy import Table

from crm.platform import metrics
from crm.platform.aio import cancel_and_wait
from crm.platform.bus import Bus, BusError
from crm.platform.bus.topic_spec import TopicSpec
from crm.platform.consumer import BatchHook, EventConsumer, Handler
from crm.platform.db import Database
from crm.platform.logs import service_logger
from crm.platform.outbox import Outbox, OutboxRelay
from crm.platform.settings import EnvReader, Settings
from crm.platform.tokens import TokenIssuer, TokenVerifier
from crm.platform.tracing import tracer_from_env
from crm.platform.unit_of_work import UnitOfWork
from crm.platform.verification import TokenSecurity

StartHook = Callable[["ServiceRuntime"], Awaitable[None]]
Job = Callable[["ServiceRuntime"], Awaitable[None]]


@dataclass(frozen=True)
class ServiceSpec:
    """Everything the platform needs to know to run one service; declared in the service's ``app.py``."""

    name: str
    title: str
    routers: Sequence[APIRouter]
    migrations: Path
    outbox_table: Table
    inbox_table: Table
    handlers: Mapping[str, Sequence[Handler]] = field(default_factory=dict)
    prepare_batch: BatchHook | None = None  # the consumer's batch hook (analytics: load a batch's rows)
    topics: Sequence[TopicSpec] = ()  # provisioned at start on Kafka (all of the catalog's)
    on_start: Sequence[StartHook] = ()
    jobs: Sequence[Job] = ()  # long-running background work, e.g. periodic checks
    config: Callable[[EnvReader], Any] | None = None  # the service's own settings, parsed at start

    def consumed_topics(self, topic_of: Callable[[str], str]) -> list[str]:
        return sorted({topic_of(event_type) for event_type in self.handlers})


class ServiceRuntime:
    def __init__(
        self,
        spec: ServiceSpec,
        settings: Settings,
        bus: Bus | None,
        tokens: TokenIssuer,
        *,
        consumed_topics: Sequence[str] = (),
        security: TokenSecurity | None = None,
        known_event_types: Collection[str] | None = None,
    ) -> None:
        self.spec, self.settings, self.bus, self.tokens = spec, settings, bus, tokens
        # How this process checks access tokens (shared by every runtime of an embedded process).
        self.security = security if security is not None else TokenSecurity.static(tokens)
        self.verifier: TokenVerifier = self.security.verifier
        # The service's own typed settings (ConfigError at construction, so a bad value stops the start).
        self.config: Any = settings.service_config(spec.config) if spec.config is not None else None
        self.label = f"{spec.name.replace('_', '-')}-service"  # in logs, metrics and traces
        self.log = service_logger(f"crm.{spec.name}", self.label)
        # Observability: a tracer (OpenTelemetry export only when OTEL_* ask for it), the service's metrics,
        # and the Kafka message quota its budget warning compares against.
        self.tracer = tracer_from_env(self.label, settings.env)
        self.metrics = metrics.ServiceMetrics(self.label)
        metrics.BUDGET.configure(
            settings.env.number("KAFKA_DAILY_QUOTA", 1_000, minimum=1),
            settings.env.number("KAFKA_MONTHLY_QUOTA", 10_000, minimum=1),
        )
        self.db = Database(settings.database_url)
        self.outbox = Outbox(spec.outbox_table)
        self.uow = UnitOfWork(self.db, self.outbox, spec.name)
        self.relay = OutboxRelay(
            self.db,
            self.outbox,
            bus,
            self.log,
            poll_interval=settings.outbox_poll_interval_ms / 1000,
            tracer=self.tracer,
            metrics=self.metrics,
        )
        self.consumer: EventConsumer | None = None
        if bus is not None and spec.handlers and consumed_topics:
            self.consumer = EventConsumer(
                group=settings.kafka.client_id,
                service=spec.name,
                db=self.db,
                bus=bus,
                outbox=self.outbox,
                inbox=spec.inbox_table,
                handlers=spec.handlers,
                topics=consumed_topics,
                log=self.log,
                tracer=self.tracer,
                metrics=self.metrics,
                known_types=known_event_types,
                prepare=spec.prepare_batch,
            )
        self.topics_ready = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Migrate the database, then start the relay, consumer and jobs in the background.
        Never waits for the bus: a broker that is down must not keep the HTTP API from serving."""
        await self.db.migrate(self.spec.migrations, lock_name=f"crm-migrate-{self.spec.name}")
        for hook in self.spec.on_start:
            await hook(self)
        await self.security.start()
        if self.bus is None:
            self.log.warning("⏭️ Kafka disabled: events are kept in the outbox and not consumed")
        self._spawn(self.relay.run(), "relay")
        if self.consumer is not None:
            self._spawn(self._consume(), "consumer")
        for job in self.spec.jobs:
            self._spawn(job(self), job.__name__)
        metrics.register_probe(self.label, self.refresh_metrics)

    async def stop(self) -> None:
        metrics.unregister_probe(self.label)
        await cancel_and_wait(self._tasks)
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self.security.stop()
        if self.bus is not None:
            await self.bus.close()
        await self.db.dispose()
        self.metrics.forget_gauges()
        self.tracer.shutdown()

    async def refresh_metrics(self) -> None:
        """The gauges read at scrape time: outbox backlog and oldest age, consumer lag, budget."""
        self.metrics.budget()
        if self.consumer is not None:
            self.metrics.lags(self.consumer.group, await self.consumer.lags())
        backlog, oldest = await self.outbox.backlog(self.db)
        self.metrics.outbox(backlog, oldest)

    async def readiness(self) -> dict[str, Any]:
        """What /ready reports. Only the database decides readiness: with the bus down, writes still
        succeed (the outbox holds the events), so the instance should keep receiving traffic."""
        checks: dict[str, Any] = {}
        try:
            await asyncio.wait_for(self.db.ping(), timeout=2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        if self.bus is None:
            checks["bus"] = "disabled"
        else:
            checks["bus"] = self.bus.name
            checks["producer"] = "connected" if self.relay.connected else "not connected"
            if self.consumer is not None:
                checks["consumer"] = "connected" if self.consumer.connected.is_set() else "not connected"
        checks["tokens"] = self.security.status()
        with contextlib.suppress(Exception):
            backlog, oldest = await self.outbox.backlog(self.db)
            checks["outbox"] = {"pending": backlog, "oldest": oldest.isoformat() if oldest else None}
        return checks

    async def _consume(self) -> None:
        assert self.consumer is not None
        await self.provision_topics()
        await self.consumer.run()

    async def provision_topics(self) -> None:
        """Create missing topics on Kafka (idempotent); retries while the broker is unreachable."""
        if self.bus is None or self.bus.name != "kafka" or not self.spec.topics:
            self.topics_ready.set()
            return
        from crm.platform.bus.topics import ensure_topics

        delay = 1.0
        while True:
            try:
                reports = await ensure_topics(self.settings.kafka, self.spec.topics)
                for report in reports:
                    if report.created:
                        self.log.info("🆕 Topic created: %s", report.name)
                    for setting, (expected, actual) in report.drift.items():
                        self.log.warning(
                            "⚠️ Topic %s: %s is %s, expected %s", report.name, setting, actual, expected
                        )
                break
            except BusError as exc:
                self.log.error(str(exc))
                if "Authorization" in str(exc):
                    break  # a managed cluster may forbid creating topics: `crm kafka topics create`
            except Exception as exc:  # never let provisioning keep the consumer from running
                self.log.error("❌ Topic check failed: %s: %s", type(exc).__name__, exc)
                break
            self.log.warning("🔁 Topic check retrying in %.0fs", delay)
            await asyncio.sleep(delay)
            delay = min(30.0, delay * 2)
        self.topics_ready.set()

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(f"{self.spec.name}.{name}")
        task.add_done_callback(self._report_crash)
        self._tasks.append(task)

    def _report_crash(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.log.error("💥 Background task %s died", task.get_name(), exc_info=task.exception())
