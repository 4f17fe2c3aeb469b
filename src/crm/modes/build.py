"""Build one service's runtime and ASGI app from settings: shared by the embedded and distributed modes."""

from __future__ import annotations

from fastapi import FastAPI

from crm.contracts import CATALOG, topic_of
from crm.contracts.topics import topic_specs
from crm.platform.bus import Bus
from crm.platform.runtime import ServiceRuntime, ServiceSpec
from crm.platform.security import TokenIssuer, TokenSecurity
from crm.platform.settings import Settings
from crm.platform.web import create_service_app


def build_service(
    spec: ServiceSpec,
    settings: Settings,
    bus: Bus | None,
    tokens: TokenIssuer,
    *,
    manage_lifespan: bool = True,
    security: TokenSecurity | None = None,
) -> tuple[ServiceRuntime, FastAPI]:
    """``tokens``: auth's signer; ``security``: how this process checks tokens (``crm.modes.tokens``; by
    default with ``tokens``' own keys and no revocation feed, for a service tested alone)."""
    from dataclasses import replace

    spec = replace(spec, topics=topic_specs(settings.kafka.topic_partitions))
    runtime = ServiceRuntime(
        spec,
        settings,
        bus,
        tokens,
        consumed_topics=spec.consumed_topics(topic_of),
        security=security,
        known_event_types=frozenset(CATALOG),
    )
    return runtime, create_service_app(runtime, manage_lifespan=manage_lifespan)


def kafka_bus(settings: Settings) -> Bus | None:
    """The Kafka bus when ``KAFKA_ENABLED=true``, else None (events wait in the outbox)."""
    if not settings.kafka.enabled:
        return None
    from crm.platform.bus.kafka import KafkaBus

    return KafkaBus(settings.kafka)
