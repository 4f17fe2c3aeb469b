"""Reports through the gateway: the guide's flow feeds the metrics, a known month of events gives exact
figures, and neither duplicates nor a different arrival order change them. Who may read what."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crm.contracts import CATALOG, EventType
from tests.support.analytics import REPORTS, Analytics, running_analytics
from tests.support.analytics_scenario import ALICE, BOB, a_month_of_activity, expected_reports
from tests.support.embedded import bearer, register, running_embedded, token_for
from tests.support.waiting import eventually


@pytest.fixture
async def analytics(tmp_path: Path) -> AsyncIterator[Analytics]:
    async with running_analytics(tmp_path) as running:
        yield running


async def test_guide_flow_registering_and_creating_a_customer_updates_the_metrics(tmp_path: Path) -> None:
    async with running_embedded(tmp_path) as (crm, client):
        _, manager = token_for(crm, "MANAGER")
        _, admin = token_for(crm, "ADMIN")

        async def report(name: str) -> dict:
            response = await client.get(f"/api/reports/{name}", headers=bearer(manager))
            assert response.status_code == 200, response.text
            return response.json()

        async def customers_agree(*names: str) -> dict | None:
            """analytics' count once it equals customer-service's own, which lists ``names``."""
            listed = (await client.get("/api/customers", headers=bearer(manager))).json()
            counted = await report("customers")
            has_all = set(names) <= {c["name"] for c in listed["items"]}
            return counted if has_all and counted["total"] == listed["total"] else None

        user = await register(client, "guide@example.com", name="Guide User")
        users = await eventually(
            lambda: _when(report("users"), lambda r: r["byRole"].get("USER") == 1),
            what="the new user counted",
        )
        await eventually(lambda: customers_agree("Guide User"), what="the user's customer counted")

        created = await client.post(
            "/api/customers",
            headers=bearer(user["token"]),
            json={
                "name": "Test Company",
                "industry": "Technology",
                "size": "MEDIUM",
                "email": "contact@testcompany.com",
            },
        )
        assert created.status_code == 201, created.text
        customers = await eventually(lambda: customers_agree("Test Company"), what="Test Company counted")
        assert customers["byIndustry"]["Technology"] == 1 and customers["bySize"]["MEDIUM"] == 1

        metrics = await client.get("/api/metrics/events", headers=bearer(admin))
        assert metrics.status_code == 200, metrics.text
        by_type = metrics.json()["today"]["byType"]
        assert by_type["USER_CREATED"] == (await report("users"))["total"] >= users["total"]
        assert by_type["CUSTOMER_CREATED"] == customers["total"]


async def _when(probe, condition):  # type: ignore[no-untyped-def]
    value = await probe
    return value if condition(value) else None


async def test_a_known_month_gives_exact_figures(analytics: Analytics) -> None:
    month = a_month_of_activity()
    assert {e.type for e in month.events} == set(CATALOG), "the month covers every event type"
    await analytics.publish(month.events)
    assert await analytics.reports() == expected_reports(month)


async def test_every_event_delivered_twice_changes_nothing(analytics: Analytics) -> None:
    month = a_month_of_activity()
    await analytics.publish(e for event in month.events for e in (event, event))
    assert await analytics.reports() == expected_reports(month)
    consumer = analytics.runtime.consumer
    assert consumer is not None
    assert consumer.duplicates == len(month.events) and consumer.applied == len(month.events)
    for user_id, count in ((ALICE, 2), (BOB, 1)):
        mine = await analytics.get("/api/notifications", role="USER", user_id=user_id)
        assert mine["total"] == count, "one notification per event, however often it is delivered"


async def test_events_arriving_in_reverse_order_give_the_same_figures(analytics: Analytics) -> None:
    month = a_month_of_activity()
    await analytics.publish(reversed(month.events))
    assert await analytics.reports() == expected_reports(month)


async def test_the_event_counter_counts_each_event_once_on_its_day(analytics: Analytics) -> None:
    month = a_month_of_activity()
    await analytics.publish([*month.events, *month.events])
    last = month.events[-1].time.date()
    body = await analytics.get("/api/metrics/events", role="ADMIN", date=last.isoformat())
    on_that_day = [e for e in month.events if e.time.date() == last]
    assert body["day"] == last.isoformat() and body["month"] == last.strftime("%Y-%m")
    assert body["today"]["total"] == len(on_that_day)
    assert body["today"]["byType"]["USER_CREATED"] == 3
    assert body["today"]["byTopic"]["notification.events"] == 3
    in_month = [
        e
        for e in month.events
        if e.time.date().replace(day=1) == last.replace(day=1) and e.time.date() <= last
    ]
    assert body["thisMonth"]["total"] == len(in_month)
    assert sum(body["thisMonth"]["byTopic"].values()) == len(in_month)


async def test_reports_need_a_token_and_a_reporting_role(analytics: Analytics) -> None:
    client = analytics.client
    for name in REPORTS:
        path = f"/api/reports/{name}"
        assert (await client.get(path)).status_code == 401
        assert (await client.get(path, headers=bearer("not-a-token"))).status_code == 401
        for role in ("USER", "SALES"):
            denied = await client.get(path, headers=analytics.token(role))
            assert denied.status_code == 403 and denied.json()["error"] == "forbidden"
        for role in ("MANAGER", "ADMIN", "COMPLIANCE"):
            assert (await client.get(path, headers=analytics.token(role))).status_code == 200


async def test_event_metrics_are_for_admins_only(analytics: Analytics) -> None:
    client = analytics.client
    assert (await client.get("/api/metrics/events")).status_code == 401
    for role in ("USER", "SALES", "MANAGER", "COMPLIANCE"):
        assert (await client.get("/api/metrics/events", headers=analytics.token(role))).status_code == 403
    body = await analytics.get("/api/metrics/events", role="ADMIN")
    assert body["today"] == {"total": 0, "byTopic": {}, "byType": {}}


async def test_empty_reports_have_zeros_and_no_rates(analytics: Analytics) -> None:
    reports = await analytics.reports()
    assert reports["sales-summary"]["winRate"] is None and reports["sales-summary"]["pipeline"] == []
    assert reports["tasks"]["completionRate"] is None and reports["tasks"]["created"] == 0
    assert reports["approvals"]["averageDecisionHours"] is None
    assert len(reports["customers"]["createdPerDay"]) == 30 and reports["customers"]["total"] == 0


async def test_every_event_type_is_consumed(analytics: Analytics) -> None:
    consumer = analytics.runtime.consumer
    assert consumer is not None
    assert set(consumer.handlers) == {t.value for t in EventType}
    assert sorted(consumer.topics) == sorted({spec.topic.value for spec in CATALOG.values()})
