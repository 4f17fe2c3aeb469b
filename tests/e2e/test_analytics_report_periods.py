"""Reports over a period (`from`/`to`, whole UTC days, inclusive): a known set of dated events gives exact
figures — deals closed, customers created, approvals requested, tasks created in the period; no period is all
time; `from` after `to` is a 422 naming `from`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from crm.contracts import EventType as E
from crm.contracts.payloads import customers as c
from crm.contracts.payloads import opportunities as o
from crm.contracts.payloads import sales_activity as s
from tests.support.analytics import Analytics, Timeline, running_analytics

TODAY = datetime.now(UTC).date()
OWNER = "user-alice"


def ago(days: int, hours: int = 0) -> datetime:
    """Noon ``days`` before today (UTC), plus ``hours``: far from any day's edge."""
    return datetime.combine(TODAY - timedelta(days=days), time(12), tzinfo=UTC) + timedelta(hours=hours)


def day(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


def dated_events() -> Timeline:
    t = Timeline()
    for cid, days, industry, size in (
        ("c-40", 40, "Finance", "LARGE"),
        ("c-10", 10, "Retail", "SMALL"),
        ("c-2", 2, "Retail", None),
        ("c-0", 0, "Technology", "MEDIUM"),
    ):
        created = c.CustomerCreated(customer_id=cid, name=cid, industry=industry, size=size, owner_id=OWNER)
        t.add(E.CUSTOMER_CREATED, created, subject=cid, at=ago(days))
    t.add(
        E.CUSTOMER_DELETED, c.CustomerDeleted(customer_id="c-10", deleted_by=OWNER), subject="c-10", at=ago(9)
    )

    def deal(oid: str, days: int, stage: str, amount: str, currency: str = "USD") -> None:
        payload = o.OpportunityCreated(
            opportunity_id=oid,
            customer_id="c-40",
            name=oid,
            amount=Decimal(amount),
            currency=currency,
            stage=stage,
            owner_id=OWNER,
        )
        t.add(E.OPPORTUNITY_CREATED, payload, subject=oid, at=ago(days))

    def move(oid: str, days: int, from_stage: str, to_stage: str, amount: str) -> None:
        payload = o.OpportunityStageChanged(
            opportunity_id=oid,
            customer_id="c-40",
            owner_id=OWNER,
            from_stage=from_stage,
            to_stage=to_stage,
            amount=Decimal(amount),
            currency="USD",
        )
        t.add(E.OPPORTUNITY_STAGE_CHANGED, payload, subject=oid, at=ago(days))

    deal("d-won-old", 40, "LEAD", "100.00")
    move("d-won-old", 20, "LEAD", "WON", "100.00")
    deal("d-won-new", 5, "QUALIFIED", "250.00")
    move("d-won-new", 1, "QUALIFIED", "WON", "250.00")
    deal("d-lost", 10, "LEAD", "50.00")
    move("d-lost", 3, "LEAD", "LOST", "50.00")
    deal("d-open", 2, "PROPOSAL", "75.00", currency="EUR")
    deal("d-reopened", 8, "NEGOTIATION", "400.00")
    move("d-reopened", 6, "NEGOTIATION", "WON", "400.00")
    move("d-reopened", 4, "WON", "NEGOTIATION", "400.00")  # reopened: no longer closed

    for aid, days, outcome, hours in (
        ("a-15", 15, "APPROVED", 2),
        ("a-5", 5, "REJECTED", 4),
        ("a-0", 0, None, 0),
    ):
        asked = o.ApprovalRequested(
            approval_id=aid,
            opportunity_id="d-won-old",
            customer_id="c-40",
            requester_id=OWNER,
            approver_role="MANAGER",
            title=aid,
        )
        t.add(E.APPROVAL_REQUESTED, asked, subject=aid, at=ago(days))
        if outcome:
            decided = o.ApprovalStatusChanged(
                approval_id=aid,
                opportunity_id="d-won-old",
                customer_id="c-40",
                requester_id=OWNER,
                status=outcome,
                previous_status="PENDING",
            )
            t.add(E.APPROVAL_STATUS_CHANGED, decided, subject=aid, at=ago(days, hours=hours))

    for tid, days, kind, priority in (
        ("t-30", 30, "manual", "HIGH"),
        ("t-6", 6, "first_contact", "LOW"),
        ("t-0", 0, "manual", "URGENT"),
    ):
        task = s.TaskCreated(
            task_id=tid,
            title=tid,
            assignee_id=OWNER,
            status="TODO",
            priority=priority,
            due_date=None,
            kind=kind,
        )
        t.add(E.TASK_CREATED, task, subject=tid, at=ago(days))
    done = s.TaskCompleted(task_id="t-30", assignee_id=OWNER, completed_by=OWNER)
    t.add(E.TASK_COMPLETED, done, subject="t-30", at=ago(29))
    return t


@pytest.fixture
async def analytics(tmp_path: Path) -> AsyncIterator[Analytics]:
    async with running_analytics(tmp_path) as running:
        await running.publish(dated_events().events)
        yield running


async def report(analytics: Analytics, name: str, **period: date | str) -> dict:
    return dict(await analytics.get(f"/api/reports/{name}", **period))


async def test_sales_summary_counts_the_deals_closed_in_the_period(analytics: Analytics) -> None:
    last_week = await report(analytics, "sales-summary", **{"from": day(7), "to": day(0)})
    assert last_week == {
        "pipeline": [
            {"stage": "PROPOSAL", "currency": "EUR", "count": 1, "value": "75.00"},
            {"stage": "NEGOTIATION", "currency": "USD", "count": 1, "value": "400.00"},
            {"stage": "WON", "currency": "USD", "count": 1, "value": "250.00"},
            {"stage": "LOST", "currency": "USD", "count": 1, "value": "50.00"},
        ],
        "openValue": [{"currency": "EUR", "value": "75.00"}, {"currency": "USD", "value": "400.00"}],
        "dealsWon": 1,
        "dealsLost": 1,
        "winRate": 0.5,
        "valueWon": [{"currency": "USD", "value": "250.00"}],
    }
    all_time = await report(analytics, "sales-summary")
    assert (all_time["dealsWon"], all_time["dealsLost"], all_time["valueWon"]) == (
        2,
        1,
        [{"currency": "USD", "value": "350.00"}],
    )
    since = await report(analytics, "sales-summary", **{"from": day(20)})  # the first day counts
    assert (since["dealsWon"], since["dealsLost"]) == (2, 1)
    until = await report(analytics, "sales-summary", to=day(20))  # and the last
    assert (until["dealsWon"], until["dealsLost"], until["openValue"]) == (1, 0, last_week["openValue"])


async def test_customers_created_in_the_period(analytics: Analytics) -> None:
    body = await report(analytics, "customers", **{"from": day(10), "to": day(2)})
    per_day = {d: 0 for d in (day(n) for n in range(10, 1, -1))}
    per_day.update({day(10): 1, day(2): 1})
    assert body == {
        "total": 1,
        "deleted": 1,
        "restored": 0,
        "byIndustry": {"Retail": 1},
        "bySize": {"UNSPECIFIED": 1},
        "createdPerDay": [{"day": d, "count": k} for d, k in per_day.items()],
    }
    all_time = await report(analytics, "customers")
    assert (all_time["total"], all_time["deleted"], len(all_time["createdPerDay"])) == (3, 1, 30)
    today = await report(analytics, "customers", **{"from": day(0)})
    assert today["byIndustry"] == {"Technology": 1} and today["createdPerDay"] == [
        {"day": day(0), "count": 1}
    ]


async def test_approvals_requested_in_the_period(analytics: Analytics) -> None:
    body = await report(analytics, "approvals", **{"from": day(7)})
    assert body == {
        "total": 2,
        "byStatus": {"PENDING": 1, "REJECTED": 1},
        "decided": 1,
        "averageDecisionHours": 4.0,
    }
    assert (await report(analytics, "approvals"))["averageDecisionHours"] == 3.0
    assert (await report(analytics, "approvals", to=day(16)))["total"] == 0


async def test_tasks_created_in_the_period(analytics: Analytics) -> None:
    body = await report(analytics, "tasks", **{"from": day(7), "to": day(0)})
    assert (body["created"], body["completed"], body["open"], body["completionRate"]) == (2, 0, 2, 0.0)
    assert set(body["byPriority"]) == {"LOW", "URGENT"} and set(body["byKind"]) == {"first_contact", "manual"}
    old = await report(analytics, "tasks", to=day(30))
    assert (old["created"], old["completed"], old["completionRate"]) == (1, 1, 1.0)
    assert (await report(analytics, "tasks"))["created"] == 3


@pytest.mark.parametrize("name", ["sales-summary", "customers", "approvals", "tasks"])
async def test_a_period_that_ends_before_it_starts_is_refused(analytics: Analytics, name: str) -> None:
    headers = analytics.token("MANAGER")
    path = f"/api/reports/{name}"
    backwards = await analytics.client.get(path, headers=headers, params={"from": day(0), "to": day(1)})
    assert backwards.status_code == 422 and "from" in backwards.json()["fields"], backwards.text
    one_day = await analytics.client.get(path, headers=headers, params={"from": day(1), "to": day(1)})
    assert one_day.status_code == 200
    for bad in ({"from": "2026-13-01"}, {"to": "yesterday"}, {"from": "1e9"}):
        refused = await analytics.client.get(path, headers=headers, params=bad)
        assert refused.status_code == 422 and set(refused.json()["fields"]) == set(bad), refused.text
