"""Prometheus metrics of every service, served at ``/metrics`` in the text exposition format.

One registry per process, every series labelled with ``service``: the embedded mode runs five services in one
process, and one scrape of it must still tell them apart. Counters move where things happen (a request
answered, an event published, applied, failed or dead-lettered, a Kafka message produced or consumed); the
gauges that need a query (outbox backlog and age, consumer lag, budget) are read when ``/metrics`` is
scraped, by the probes the services register, so they cost nothing between scrapes.

``metrics_endpoint`` is a plain ASGI app: the gateway (not a FastAPI app) serves it as its ``/metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from starlette.types import Receive, Scope, Send

from crm.platform import logs
from crm.platform.aio import wait_until

disable_created_metrics()  # no `*_created` twin of every counter: half the output, nothing lost
REGISTRY = CollectorRegistry()
_SERVICE_EVENT = ["service", "topic", "type"]
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_DELIVERY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

HTTP_REQUESTS = Counter(
    "crm_http_requests",
    "HTTP requests answered, by route template and status",
    ["service", "method", "route", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "crm_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template",
    ["service", "method", "route"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
EVENTS_PUBLISHED = Counter(
    "crm_events_published", "Events published by the outbox relay", _SERVICE_EVENT, registry=REGISTRY
)
EVENTS_CONSUMED = Counter(
    "crm_events_consumed", "Events applied by this service's handlers", _SERVICE_EVENT, registry=REGISTRY
)
EVENTS_DUPLICATES = Counter(
    "crm_events_duplicates", "Redelivered events the inbox skipped", _SERVICE_EVENT, registry=REGISTRY
)
EVENTS_FAILED = Counter(
    "crm_events_failed",
    "Failed attempts at handling an event (retried; dead-lettered after the last)",
    _SERVICE_EVENT,
    registry=REGISTRY,
)
EVENTS_DEAD_LETTERED = Counter(
    "crm_events_dead_lettered",
    "Records set aside to <topic>.dlq, by reason",
    [*_SERVICE_EVENT, "reason"],
    registry=REGISTRY,
)
EVENT_HANDLING = Histogram(
    "crm_event_handling_seconds",
    "Time from receiving an event to committing its handlers' effects",
    ["service", "type"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
EVENT_DELIVERY = Histogram(
    "crm_event_delivery_seconds",
    "Age of an event when this service applied it (outbox wait + bus + handling)",
    ["service", "type"],
    buckets=_DELIVERY_BUCKETS,
    registry=REGISTRY,
)
KAFKA_MESSAGES = Counter(
    "crm_kafka_messages",
    "Kafka messages this service produced or consumed (what a provider's quota meters)",
    ["service", "direction"],
    registry=REGISTRY,
)
OUTBOX_BACKLOG = Gauge(
    "crm_outbox_backlog", "Events committed but not yet published", ["service"], registry=REGISTRY
)
OUTBOX_OLDEST_AGE = Gauge(
    "crm_outbox_oldest_age_seconds",
    "Age of the oldest unpublished event (0 when the outbox is empty)",
    ["service"],
    registry=REGISTRY,
)
CONSUMER_LAG = Gauge(
    "crm_consumer_lag",
    "Records of a partition not yet consumed by the service's group (Kafka only)",
    ["service", "group", "topic", "partition"],
    registry=REGISTRY,
)
BUDGET_USED = Gauge(
    "crm_kafka_budget_messages",
    "Kafka messages counted by this service in the current UTC day or month",
    ["service", "period"],
    registry=REGISTRY,
)
BUDGET_QUOTA = Gauge(
    "crm_kafka_budget_quota_messages",
    "The message quota of the period (KAFKA_DAILY_QUOTA, KAFKA_MONTHLY_QUOTA)",
    ["service", "period"],
    registry=REGISTRY,
)
GATEWAY_REJECTIONS = Counter(
    "crm_gateway_rejections",
    "Requests the gateway answered itself, never forwarded (401 token, 403 CORS, 413 body, 429 limit...)",
    ["service", "status", "reason"],
    registry=REGISTRY,
)
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class _ProcessMetrics:
    """CPU, memory, file descriptors, GC and Python version of the process, labelled with the process's
    service (``crm-dev`` for the embedded mode's one process)."""

    def __init__(self) -> None:
        scratch = CollectorRegistry()
        self._inner = [
            ProcessCollector(registry=scratch),
            PlatformCollector(registry=scratch),
            GCCollector(registry=scratch),
        ]

    def collect(self) -> Iterator[Metric]:
        service = logs.process_service
        for collector in self._inner:
            for family in collector.collect():
                relabelled = Metric(family.name, family.documentation, family.type, family.unit)
                for s in family.samples:
                    relabelled.add_sample(s.name, {**s.labels, "service": service}, s.value, s.timestamp)
                yield relabelled


REGISTRY.register(_ProcessMetrics())


class HttpMetrics:
    """The request counter and latency histogram of one service. ``observe`` is the hot path: one dict
    lookup for the label children (made once per route/method/status), one increment, one observation."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        if method not in _KNOWN_METHODS:
            method = "OTHER"  # a client picks the method: never let it grow the series
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                HTTP_REQUESTS.labels(self.service, method, route, str(status)),
                HTTP_DURATION.labels(self.service, method, route),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)


class EdgeMetrics(HttpMetrics):
    """The gateway's: the forwarded requests (``crm_http_*``, route ``/api/<area>``, the service's status)
    and the answers it gave itself (``crm_gateway_rejections_total``)."""

    def __init__(self, service: str = "gateway") -> None:
        super().__init__(service)
        self._rejections: dict[tuple[int, str], Any] = {}

    def rejected(self, status: int, reason: str) -> None:
        child = self._rejections.get((status, reason))
        if child is None:  # ``reason`` is one of the gateway's own error codes: a bounded set
            child = self._rejections[(status, reason)] = GATEWAY_REJECTIONS.labels(
                self.service, str(status), reason
            )
        child.inc()


class MessageBudget:
    """Kafka messages counted by this process in the current UTC day and month (per service), against the
    quota; logs one warning a day when the day's count reaches 80% of the daily quota (and one a month at
    80% of the monthly quota). The count starts at zero when the process starts: ``crm kafka budget`` reads
    the cluster's own figures."""

    WARN_AT = 0.8

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clock = clock
        self.daily_quota, self.monthly_quota = 1_000, 10_000
        self._day: date | None = None
        self._month: tuple[int, int] | None = None
        self._today: dict[str, int] = {}
        self._this_month: dict[str, int] = {}
        self._warned_day: date | None = None
        self._warned_month: tuple[int, int] | None = None

    def configure(self, daily_quota: int, monthly_quota: int) -> None:
        self.daily_quota, self.monthly_quota = daily_quota, monthly_quota

    def count(self, service: str, n: int, log: logging.LoggerAdapter[logging.Logger] | None = None) -> None:
        if n <= 0:
            return
        today = self._roll()
        self._today[service] = self._today.get(service, 0) + n
        self._this_month[service] = self._this_month.get(service, 0) + n
        if log is None:
            return
        day_total = sum(self._today.values())
        if day_total >= self.WARN_AT * self.daily_quota and self._warned_day != today:
            self._warned_day = today
            self._warn(log, day_total, self.daily_quota, "today", "KAFKA_DAILY_QUOTA")
        month_total = sum(self._this_month.values())
        if month_total >= self.WARN_AT * self.monthly_quota and self._warned_month != self._month:
            self._warned_month = self._month
            self._warn(log, month_total, self.monthly_quota, "this month", "KAFKA_MONTHLY_QUOTA")

    def used(self, service: str | None = None) -> tuple[int, int]:
        """(messages today, messages this month) of ``service``, or of the whole process."""
        self._roll()
        if service is None:
            return sum(self._today.values()), sum(self._this_month.values())
        return self._today.get(service, 0), self._this_month.get(service, 0)

    def _roll(self) -> date:
        today = self.clock().date()
        if today != self._day:
            self._day, self._today = today, {}
            if (today.year, today.month) != self._month:
                self._month, self._this_month = (today.year, today.month), {}
        return today

    @staticmethod
    def _warn(
        log: logging.LoggerAdapter[logging.Logger], used: int, quota: int, period: str, variable: str
    ) -> None:
        log.warning(
            "⚠️ Kafka message budget: %s of %s messages %s (%d%% of %s), counted by this process; "
            "`crm kafka budget` shows the whole cluster",
            f"{used:,}",
            f"{quota:,}",
            period,
            used * 100 // quota,
            variable,
        )


BUDGET = MessageBudget()


class ServiceMetrics:
    """The event metrics of one service, bound to its ``service`` label."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.http = HttpMetrics(service)
        self._lag_series: set[tuple[str, str, str]] = set()

    def published(self, topic: str, event_type: str) -> None:
        EVENTS_PUBLISHED.labels(self.service, topic, event_type).inc()

    def consumed(self, topic: str, event_type: str, handling_seconds: float, age_seconds: float) -> None:
        EVENTS_CONSUMED.labels(self.service, topic, event_type).inc()
        EVENT_HANDLING.labels(self.service, event_type).observe(handling_seconds)
        EVENT_DELIVERY.labels(self.service, event_type).observe(max(0.0, age_seconds))

    def consumed_together(self, applied: Iterable[tuple[str, str, float]], handling_seconds: float) -> None:
        """Events applied in one transaction, each ``(topic, event type, age in seconds)``: each counted and
        observed as :meth:`consumed` does, with the transaction's time per event as its handling time."""
        ages: dict[tuple[str, str], list[float]] = {}
        for topic, event_type, age in applied:
            ages.setdefault((topic, event_type), []).append(age)
        for (topic, event_type), of_type in ages.items():  # one label lookup per type, not per event
            EVENTS_CONSUMED.labels(self.service, topic, event_type).inc(len(of_type))
            handling = EVENT_HANDLING.labels(self.service, event_type)
            delivery = EVENT_DELIVERY.labels(self.service, event_type)
            for age in of_type:
                handling.observe(handling_seconds)
                delivery.observe(max(0.0, age))

    def duplicate(self, topic: str, event_type: str) -> None:
        EVENTS_DUPLICATES.labels(self.service, topic, event_type).inc()

    def failed(self, topic: str, event_type: str) -> None:
        EVENTS_FAILED.labels(self.service, topic, event_type).inc()

    def dead_lettered(self, topic: str, event_type: str, reason: str) -> None:
        EVENTS_DEAD_LETTERED.labels(self.service, topic, event_type, reason).inc()

    def kafka_messages(
        self, direction: str, n: int, log: logging.LoggerAdapter[logging.Logger] | None = None
    ) -> None:
        """``n`` messages produced or consumed through Kafka: metered by the provider, so budgeted."""
        if n > 0:
            KAFKA_MESSAGES.labels(self.service, direction).inc(n)
            BUDGET.count(self.service, n, log)

    def outbox(self, backlog: int, oldest: datetime | None) -> None:
        OUTBOX_BACKLOG.labels(self.service).set(backlog)
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None and backlog else 0.0
        OUTBOX_OLDEST_AGE.labels(self.service).set(max(0.0, age))

    def lags(self, group: str, lags: Mapping[tuple[str, int], int]) -> None:
        current = {(group, topic, str(partition)) for topic, partition in lags}
        for stale in self._lag_series - current:
            CONSUMER_LAG.remove(self.service, *stale)
        for (topic, partition), lag in lags.items():
            CONSUMER_LAG.labels(self.service, group, topic, str(partition)).set(lag)
        self._lag_series = current

    def budget(self) -> None:
        today, month = BUDGET.used(self.service)
        BUDGET_USED.labels(self.service, "day").set(today)
        BUDGET_USED.labels(self.service, "month").set(month)
        BUDGET_QUOTA.labels(self.service, "day").set(BUDGET.daily_quota)
        BUDGET_QUOTA.labels(self.service, "month").set(BUDGET.monthly_quota)

    def forget_gauges(self) -> None:
        """Drop this service's gauge series (it stopped: its last values would lie)."""
        for gauge in (OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE):
            _remove(gauge, self.service)
        for period in ("day", "month"):
            _remove(BUDGET_USED, self.service, period)
            _remove(BUDGET_QUOTA, self.service, period)
        for series in self._lag_series:
            _remove(CONSUMER_LAG, self.service, *series)
        self._lag_series = set()


def _remove(gauge: Gauge, *labels: str) -> None:
    with contextlib.suppress(KeyError):  # never set
        gauge.remove(*labels)


Probe = Callable[[], Awaitable[None]]
_probes: dict[str, Probe] = {}
PROBE_TIMEOUT = 2.0


def register_probe(service: str, probe: Probe) -> None:
    """``probe`` refreshes ``service``'s gauges; it runs at each scrape (at most PROBE_TIMEOUT seconds)."""
    _probes[service] = probe


def unregister_probe(service: str) -> None:
    _probes.pop(service, None)


async def refresh() -> None:
    """Run every registered probe, concurrently; a failing or slow one leaves its gauges as they were."""
    if _probes:
        await asyncio.gather(*(_guarded(probe) for probe in list(_probes.values())))


async def _guarded(probe: Probe) -> None:
    try:
        await wait_until(probe(), PROBE_TIMEOUT)
    except Exception:
        logging.getLogger("crm.metrics").debug("metrics probe failed", exc_info=True)


async def render(accept: str | None = None) -> tuple[bytes, str]:
    """The exposition of the whole registry (probes refreshed first) and its content type."""
    await refresh()
    encoder, content_type = choose_encoder(accept or "")
    return encoder(REGISTRY), content_type


async def metrics_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """``GET /metrics`` as a plain ASGI app (the gateway's; services serve the same through FastAPI)."""
    accept = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"accept"), None)
    body, content_type = await render(accept)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
