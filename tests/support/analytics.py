"""Helpers of the analytics tests (no tests here): analytics-service alone behind the gateway on the durable
local bus, and a builder of the catalog's events with chosen times.

Alone, because the other services react to the events these tests publish (a customer per new user, a
first-contact task per customer...): with only analytics consuming, a known set of events gives exactly
known figures.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from crm.contracts import EventType, make_event
from crm.contracts.base import Payload
from crm.modes.build import build_service
from crm.platform.bus import OutgoingRecord
from crm.platform.bus.local_log import LocalLogBus
from crm.platform.events import Envelope
from crm.platform.runtime import ServiceRuntime
from crm.platform.security import Tokens
from crm.platform.settings import Settings
from crm.services.analytics.app import SPEC
from crm.services.gateway.app import Gateway
from crm.services.gateway.upstreams import AsgiUpstream
from tests.support.embedded import bearer
from tests.support.waiting import eventually

REPORTS = ("sales-summary", "customers", "approvals", "tasks", "meetings", "users")


@dataclass
class Analytics:
    runtime: ServiceRuntime
    bus: LocalLogBus
    client: httpx.AsyncClient

    def token(self, role: str, user_id: str | None = None) -> dict[str, str]:
        """Authorization headers of a caller of ``role`` (``user_id`` or a fresh one)."""
        user_id = user_id or str(uuid.uuid4())
        email = f"{role.lower()}-{user_id[:8]}@example.com"
        return bearer(self.runtime.tokens.issue(user_id=user_id, email=email, role=role, name=role.title()))

    async def publish(self, events: Iterable[Envelope]) -> None:
        """Publish ``events`` in this order and wait until analytics has consumed every one of them."""
        consumer = self.runtime.consumer
        assert consumer is not None
        records = [to_record(e) for e in events]
        target = _seen(consumer) + len(records)
        await self.bus.publish(records)

        async def consumed() -> bool:
            return _seen(consumer) >= target

        await eventually(consumed, what=f"{len(records)} events consumed")

    async def get(self, path: str, role: str = "MANAGER", user_id: str | None = None, **params: Any) -> Any:
        response = await self.client.get(path, headers=self.token(role, user_id), params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def reports(self) -> dict[str, Any]:
        """Every report, as a manager sees it."""
        return {name: await self.get(f"/api/reports/{name}") for name in REPORTS}


def _seen(consumer: Any) -> int:
    return int(consumer.applied + consumer.duplicates + consumer.dead_lettered)


@asynccontextmanager
async def running_analytics(data_dir: Path, **env: str) -> AsyncIterator[Analytics]:
    """analytics-service alone behind the gateway; ``env`` overrides its settings (e.g. DATABASE_URL)."""
    env = {
        "CRM_DATA_DIR": str(data_dir),
        "LOG_LEVEL": "INFO",
        "JWT_SECRET": "analytics-tests-" + "k" * 32,
        **env,
    }
    settings = Settings.from_env("analytics", env)
    bus = LocalLogBus(data_dir / "bus.sqlite3")
    runtime, app = build_service(
        SPEC, settings, bus, Tokens(settings.jwt_secret.value), manage_lifespan=False
    )
    gateway = Gateway({"analytics": AsgiUpstream("analytics", app, runtime.readiness)})
    await runtime.start()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=gateway), base_url="http://crm.test"
        ) as c:
            yield Analytics(runtime, bus, c)
    finally:
        await runtime.stop()
        await bus.dispose()


def to_record(event: Envelope) -> OutgoingRecord:
    return OutgoingRecord(event.topic, event.subject.encode(), event.to_json(), event.headers())


class Timeline:
    """Events in the order they happened: each one a second after the previous unless given ``at``."""

    def __init__(self, start: datetime | None = None) -> None:
        self.clock = start or datetime.now(UTC) - timedelta(hours=1)
        self.events: list[Envelope] = []

    def add(
        self, event_type: EventType, payload: Payload, *, subject: str, at: datetime | None = None
    ) -> Envelope:
        if at is None:
            self.clock += timedelta(seconds=1)
            at = self.clock
        source = "test"
        event = replace(make_event(event_type, payload, subject=subject, source=source), time=at)
        self.events.append(event)
        return event
