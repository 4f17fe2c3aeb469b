"""Rebuilding the read models from the topics: the same figures as live consumption, read state kept, and
the live consumer carries on without applying anything twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete

from crm.contracts import EventType
from crm.contracts.payloads.customers import CustomerCreated
from crm.platform.bus import OutgoingRecord
from crm.platform.bus.local_log import records as bus_records
from crm.services.analytics.models import CustomerRow, TaskRow
from crm.services.analytics.rebuild import rebuild
from tests.support.analytics import Analytics, Timeline, running_analytics
from tests.support.analytics_scenario import ALICE, a_month_of_activity, expected_reports
from tests.support.waiting import eventually


@pytest.fixture
async def analytics(tmp_path: Path) -> AsyncIterator[Analytics]:
    async with running_analytics(tmp_path) as running:
        yield running


async def alices_notifications(analytics: Analytics) -> list[dict]:
    return (await analytics.get("/api/notifications", role="USER", user_id=ALICE))["items"]


async def test_rebuild_gives_the_live_figures_back_and_keeps_what_was_read(analytics: Analytics) -> None:
    month = a_month_of_activity()
    await analytics.publish(month.events)
    due_soon = next(n for n in await alices_notifications(analytics) if n["kind"] == "TASK_DUE_SOON")
    read = await analytics.client.post(
        f"/api/notifications/{due_soon['id']}/read", headers=analytics.token("USER", ALICE)
    )
    assert read.status_code == 200
    live_reports, live_notifications = await analytics.reports(), await alices_notifications(analytics)
    acme = "/api/reports/customers/cust-acme/timeline"
    live_timeline = await analytics.get(acme, limit=500)
    async with analytics.runtime.db.transaction() as session:  # a read model gone wrong
        await session.execute(delete(CustomerRow))
        await session.execute(delete(TaskRow))
    assert (await analytics.reports())["customers"]["total"] == 0

    report = await rebuild(analytics.runtime, analytics.bus)

    assert await analytics.reports() == live_reports == expected_reports(month)
    assert await alices_notifications(analytics) == live_notifications, "same ids, same read state"
    assert [n["read"] for n in live_notifications] == [False, True]
    assert await analytics.get(acme, limit=500) == live_timeline, "the customer's timeline, line for line"
    assert live_timeline["total"] > 10  # its creation, meetings, deals and approvals
    assert report.group.startswith("analytics-service-rebuild-")
    assert (report.records, report.applied, report.duplicates, report.skipped) == (len(month.events),) * 2 + (
        0,
        0,
    )
    assert report.incomplete_topics == []
    assert len(report.topics) == 5


async def test_the_live_consumer_carries_on_after_a_rebuild(analytics: Analytics) -> None:
    month = a_month_of_activity()
    await analytics.publish(month.events)
    await rebuild(analytics.runtime, analytics.bus)
    t = Timeline(start=datetime.now(UTC))
    new = t.add(
        EventType.CUSTOMER_CREATED,
        CustomerCreated(customer_id="cust-new", name="New", industry="Retail"),
        subject="cust-new",
    )
    await analytics.publish([new, new])
    customers = await analytics.get("/api/reports/customers")
    assert customers["total"] == expected_reports(month)["customers"]["total"] + 1
    assert customers["byIndustry"]["Retail"] == 2
    metrics = await analytics.get("/api/metrics/events", role="ADMIN", date=new.time.date().isoformat())
    assert metrics["today"]["byType"]["CUSTOMER_CREATED"] == 1 + sum(
        1 for e in month.events if e.type == EventType.CUSTOMER_CREATED and e.time.date() == new.time.date()
    )


async def test_rebuild_from_the_database_alone_ignores_repeated_records(analytics: Analytics) -> None:
    month = a_month_of_activity()
    await analytics.publish(e for event in month.events for e in (event, event))
    report = await rebuild(analytics.runtime.db, analytics.bus, inbox_consumer="analytics-service")
    assert (report.applied, report.duplicates) == (len(month.events), len(month.events))
    assert await analytics.reports() == expected_reports(month)


async def test_rebuild_skips_poison_records_without_dead_lettering_them_again(analytics: Analytics) -> None:
    await analytics.bus.publish([OutgoingRecord("customer.events", b"k", b"{not json")])
    consumer = analytics.runtime.consumer
    assert consumer is not None

    async def dead_lettered() -> bool:
        return consumer.dead_lettered == 1

    await eventually(dead_lettered, what="the poison record dead-lettered")
    report = await rebuild(analytics.runtime, analytics.bus)
    assert report.skipped == 1 and report.applied == 0
    assert len(await analytics.bus.records("customer.events.dlq")) == 1


async def test_rebuild_says_when_retention_has_pruned_history(analytics: Analytics) -> None:
    month = a_month_of_activity()
    await analytics.publish(month.events)
    async with analytics.bus.db.transaction() as session:  # what the 7-day retention does to old records
        await session.execute(
            delete(bus_records).where(bus_records.c.topic == "user.events", bus_records.c.offset == 0)
        )
    report = await rebuild(analytics.runtime, analytics.bus)
    assert report.incomplete_topics == ["user.events"]
    assert (await analytics.reports())["users"]["total"] == 1, (
        "the first user's signup is gone from the topic"
    )
