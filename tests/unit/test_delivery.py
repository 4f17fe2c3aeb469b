"""Never lost, never applied twice: the outbox, the inbox and the dead-letter path on the embedded bus."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm.contracts import EventType, make_event
from crm.contracts.payloads.users import UserCreated
from crm.platform.bus import OutgoingRecord
from crm.services.customer.models import Customer
from tests.support.embedded import bearer, register, running_embedded
from tests.support.faults import UnreachableBus
from tests.support.waiting import eventually


def user_created_record(user_id: str = "u-42") -> OutgoingRecord:
    payload = UserCreated(
        user_id=user_id, email=f"{user_id}@example.com", name="Dup", role="USER", created_at=datetime.now(UTC)
    )
    event = make_event(EventType.USER_CREATED, payload, subject=user_id, source="auth-service")
    return OutgoingRecord(event.topic, event.subject.encode(), event.to_json(), event.headers())


async def count_customers(crm, **where: str) -> int:  # type: ignore[no-untyped-def]
    db = crm.runtimes["customer"].db
    async with db.sessions() as session:
        query = select(func.count()).select_from(Customer)
        for column, value in where.items():
            query = query.where(getattr(Customer, column) == value)
        return int(await session.scalar(query) or 0)


async def test_the_same_event_delivered_twice_creates_one_customer(tmp_path: Path) -> None:
    async with running_embedded(tmp_path) as (crm, _client):
        bus = crm.bus
        record = user_created_record()
        await bus.publish([record])
        await bus.publish([record])  # a redelivery: same event id
        consumer = crm.runtimes["customer"].consumer
        assert consumer is not None
        # the first admin's USER_CREATED goes through the same consumer: wait for the copy itself
        await eventually(lambda: _duplicates(consumer, 1), what="the second delivery skipped")
        assert await count_customers(crm, source_user_id="u-42") == 1
        assert consumer.duplicates == 1


async def _done(consumer, n: int) -> bool:  # type: ignore[no-untyped-def]
    return consumer.applied + consumer.duplicates >= n


async def _duplicates(consumer, n: int) -> bool:  # type: ignore[no-untyped-def]
    return consumer.duplicates >= n


async def test_a_poison_message_is_dead_lettered_and_the_consumer_moves_on(tmp_path: Path) -> None:
    async with running_embedded(tmp_path) as (crm, _client):
        bus = crm.bus
        await bus.publish([OutgoingRecord("user.events", b"k", b"{not json")])
        bad = user_created_record("u-bad")
        bad_value = bad.value.replace(b'"email"', b'"mail"')  # payload fails its schema
        await bus.publish([OutgoingRecord(bad.topic, bad.key, bad_value, bad.headers)])
        await bus.publish([user_created_record("u-good")])
        await eventually(lambda: count_customers(crm, source_user_id="u-good"), what="the good event applied")
        customer = crm.runtimes["customer"].consumer
        assert customer is not None

        async def customer_done() -> bool:
            return customer.dead_lettered == 2

        await eventually(customer_done, what="customer-service setting both poison records aside")
        # Each consumer group decides for itself: one DLQ record per group that could not apply a record.
        mine = [
            r
            for r in await bus.records("user.events.dlq")
            if dict(r.headers)["dlq_consumer"] == b"customer-service"
        ]
        assert [dict(r.headers)["dlq_reason"] for r in mine] == [b"invalid-envelope", b"invalid-payload"]
        assert dict(mine[1].headers)["dlq_original_topic"] == b"user.events"
        assert mine[1].value == bad_value, "the record is kept unchanged for replay"


async def test_events_wait_in_the_outbox_while_the_bus_is_down(tmp_path: Path) -> None:
    async with running_embedded(tmp_path) as (crm, client):
        bus = crm.bus
        auth = crm.runtimes["auth"]
        auth.relay.bus = UnreachableBus(bus)
        body = await register(client, "down@example.com")
        pending, _ = await auth.outbox.backlog(auth.db)
        assert pending == 1, "the write succeeded and its event waits"
        auth.relay.bus = bus
        await eventually(
            lambda: count_customers(crm, source_user_id=body["user"]["id"]),
            timeout=15,
            what="customer created",
        )
        assert (await auth.outbox.backlog(auth.db))[0] == 0


async def test_kafka_disabled_keeps_events_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from crm.modes.build import build_service
    from crm.modes.services import SERVICES
    from crm.platform.security import Tokens
    from crm.platform.settings import Settings

    settings = Settings.from_env(
        "auth", {"CRM_DATA_DIR": str(tmp_path), "KAFKA_ENABLED": "false", "OUTBOX_POLL_INTERVAL_MS": "50"}
    )
    runtime, app = build_service(SERVICES["auth"], settings, None, Tokens("k" * 40))
    import httpx

    caplog.set_level(logging.INFO)
    await runtime.start()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://auth"
        ) as client:
            await register(client, "nokafka@example.com")
        await eventually(
            lambda: _logged(caplog, "⏭️ Skipping event publish (Kafka disabled)"), what="the guide's skip line"
        )
        # the first administrator's USER_CREATED and the registered user's: both kept, none dropped
        assert (await runtime.outbox.backlog(runtime.db))[0] == 2
    finally:
        await runtime.stop()


async def _logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return any(r.getMessage() == text for r in caplog.records)


async def test_data_survives_a_restart(tmp_path: Path) -> None:
    async with running_embedded(tmp_path) as (crm, client):
        await register(client, "persist@example.com")
        await eventually(lambda: count_customers(crm, email="persist@example.com"), what="customer")
    async with running_embedded(tmp_path) as (_crm, client):
        login = await client.post(
            "/api/auth/login", json={"email": "persist@example.com", "password": "Password123!"}
        )
        assert login.status_code == 200
        customers = await client.get("/api/customers", headers=bearer(login.json()["token"]))
        assert customers.json()["total"] == 1
