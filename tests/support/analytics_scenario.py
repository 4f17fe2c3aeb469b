"""A known month of CRM activity as events (every type of the catalog) and the figures it must give.
Shared by the analytics report, duplicate, ordering and rebuild tests (no tests here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from crm.contracts import EventType as E
from crm.contracts.payloads import customers as c
from crm.contracts.payloads import notifications as n
from crm.contracts.payloads import opportunities as o
from crm.contracts.payloads import sales_activity as s
from crm.contracts.payloads import users as u
from tests.support.analytics import Timeline

ALICE, BOB = "user-alice", "user-bob"


def a_month_of_activity() -> Timeline:
    now = datetime.now(UTC)
    t = Timeline(start=now - timedelta(hours=6))
    for chapter in (_people, _customers, _tasks, _meetings, _deals, _approvals, _notifications):
        chapter(t, now)
    return t


def _people(t: Timeline, now: datetime) -> None:
    """Three sign up, the manager is promoted to ADMIN, the salesperson leaves; a logout; a key revoked."""
    for user_id, role in ((ALICE, "USER"), (BOB, "SALES"), ("user-carol", "MANAGER")):
        payload = u.UserCreated(
            user_id=user_id, email=f"{user_id}@x.com", name=user_id, role=role, created_at=now
        )
        t.add(E.USER_CREATED, payload, subject=user_id)
    promoted = u.UserUpdated(
        user_id="user-carol", email="c@x.com", name="Carol", role="ADMIN", changed=["role"]
    )
    t.add(E.USER_UPDATED, promoted, subject="user-carol")
    t.add(E.USER_DELETED, u.UserDeleted(user_id=BOB, email="b@x.com", deleted_by="user-carol"), subject=BOB)
    # Alice logs out; an integration's key is revoked (counted only: no report is about them).
    logout = u.TokenRevoked(token_id="jti-alice", user_id=ALICE, expires_at=now + timedelta(minutes=15))
    t.add(E.TOKEN_REVOKED, logout, subject=ALICE)
    key = u.ApiKeyRevoked(api_key_id="key-erp", name="ERP", revoked_by="user-carol", revoked_at=now)
    t.add(E.API_KEY_REVOKED, key, subject="key-erp")


def _customers(t: Timeline, now: datetime) -> None:
    """One 40 days ago (outside the 30-day window), one 3 days ago, three today; one moves to another
    industry, one is deleted, one deleted and restored."""

    def customer(cid: str, industry: str | None, size: str | None, at: datetime | None = None) -> None:
        payload = c.CustomerCreated(customer_id=cid, name=cid, industry=industry, size=size, owner_id=ALICE)
        t.add(E.CUSTOMER_CREATED, payload, subject=cid, at=at)

    customer("cust-old", "Finance", "ENTERPRISE", at=now - timedelta(days=40))
    customer("cust-3d", "Technology", "SMALL", at=now - timedelta(days=3))
    customer("cust-acme", "Technology", "MEDIUM")
    customer("cust-shop", "Retail", None)
    customer("cust-bank", "Finance", "LARGE")
    moved = c.CustomerUpdated(customer_id="cust-3d", changes={"industry": "Healthcare"})
    t.add(E.CUSTOMER_UPDATED, moved, subject="cust-3d")
    for cid in ("cust-bank", "cust-shop"):
        t.add(E.CUSTOMER_DELETED, c.CustomerDeleted(customer_id=cid, deleted_by=ALICE), subject=cid)
    t.add(
        E.CUSTOMER_RESTORED,
        c.CustomerRestored(customer_id="cust-shop", restored_by=ALICE),
        subject="cust-shop",
    )


def _tasks(t: Timeline, now: datetime) -> None:
    """Two overdue open ones, one completed, one cancelled, one open without a due date."""

    def task(tid: str, kind: str, priority: str, due: datetime | None) -> None:
        payload = s.TaskCreated(
            task_id=tid,
            title=tid,
            assignee_id=ALICE,
            status="TODO",
            priority=priority,
            due_date=due,
            kind=kind,
        )
        t.add(E.TASK_CREATED, payload, subject=tid)

    def update(tid: str, status: str, priority: str) -> None:
        payload = s.TaskUpdated(
            task_id=tid, assignee_id=ALICE, status=status, priority=priority, changed=["status"]
        )
        t.add(E.TASK_UPDATED, payload, subject=tid)

    task("task-call", "first_contact", "HIGH", now - timedelta(days=1))
    task("task-quote", "manual", "MEDIUM", now + timedelta(days=1))
    task("task-chase", "follow_up", "LOW", now + timedelta(days=2))
    task("task-demo", "manual", "MEDIUM", now - timedelta(hours=2))
    task("task-plan", "manual", "URGENT", None)
    done = s.TaskCompleted(task_id="task-quote", assignee_id=ALICE, completed_by=ALICE)
    t.add(E.TASK_COMPLETED, done, subject="task-quote")
    update("task-chase", "CANCELLED", "LOW")
    update("task-demo", "IN_PROGRESS", "MEDIUM")


def _meetings(t: Timeline, now: datetime) -> None:
    """One held, one cancelled, one still scheduled."""
    for mid in ("meet-kickoff", "meet-review", "meet-lunch"):
        payload = s.MeetingCreated(
            meeting_id=mid,
            customer_id="cust-acme",
            owner_id=ALICE,
            title=mid,
            starts_at=now + timedelta(days=1),
        )
        t.add(E.MEETING_CREATED, payload, subject=mid)
    for mid, status in (("meet-kickoff", "COMPLETED"), ("meet-review", "CANCELLED")):
        payload = s.MeetingUpdated(
            meeting_id=mid, customer_id="cust-acme", owner_id=ALICE, status=status, changed=["status"]
        )
        t.add(E.MEETING_UPDATED, payload, subject=mid)


def _deals(t: Timeline, now: datetime) -> None:
    """Two won (USD), one lost (USD), one open in EUR, one open in USD."""

    def deal(oid: str, stage: str, amount: str, currency: str) -> None:
        payload = o.OpportunityCreated(
            opportunity_id=oid,
            customer_id="cust-acme",
            name=oid,
            amount=Decimal(amount),
            currency=currency,
            stage=stage,
            owner_id=ALICE,
        )
        t.add(E.OPPORTUNITY_CREATED, payload, subject=oid)

    def move(oid: str, from_stage: str, to_stage: str, amount: str) -> None:
        payload = o.OpportunityStageChanged(
            opportunity_id=oid,
            customer_id="cust-acme",
            owner_id=ALICE,
            from_stage=from_stage,
            to_stage=to_stage,
            amount=Decimal(amount),
            currency="USD",
        )
        t.add(E.OPPORTUNITY_STAGE_CHANGED, payload, subject=oid)

    deal("deal-a", "LEAD", "1000.00", "USD")
    deal("deal-b", "QUALIFIED", "500.50", "USD")
    deal("deal-c", "PROPOSAL", "300.25", "EUR")
    deal("deal-d", "NEGOTIATION", "2000", "USD")
    deal("deal-e", "LEAD", "49.99", "USD")
    move("deal-a", "LEAD", "WON", "1200.00")
    move("deal-b", "QUALIFIED", "LOST", "500.50")
    move("deal-d", "NEGOTIATION", "WON", "2000")


def _approvals(t: Timeline, now: datetime) -> None:
    """Four requested 5 h ago: approved after 2 h, rejected after 4 h, recalled after 1 h, one pending."""
    asked = now - timedelta(hours=5)
    for aid in ("appr-1", "appr-2", "appr-3", "appr-4"):
        payload = o.ApprovalRequested(
            approval_id=aid,
            opportunity_id="deal-a",
            customer_id="cust-acme",
            requester_id=ALICE,
            approver_role="MANAGER",
            title=aid,
        )
        t.add(E.APPROVAL_REQUESTED, payload, subject=aid, at=asked)
    for aid, status, hours in (
        ("appr-1", "APPROVED", 2),
        ("appr-2", "REJECTED", 4),
        ("appr-4", "RECALLED", 1),
    ):
        payload = o.ApprovalStatusChanged(
            approval_id=aid,
            opportunity_id="deal-a",
            customer_id="cust-acme",
            requester_id=ALICE,
            status=status,
            previous_status="PENDING",
        )
        t.add(E.APPROVAL_STATUS_CHANGED, payload, subject=aid, at=asked + timedelta(hours=hours))


def _notifications(t: Timeline, now: datetime) -> None:
    """Alice's task is due soon and her request was approved; Bob's was rejected."""
    due_soon = n.TaskDueSoon(
        task_id="task-call", assignee_id=ALICE, title="Call ACME", due_date=now + timedelta(hours=3)
    )
    t.add(E.TASK_DUE_SOON, due_soon, subject="task-call")
    for requester, status in ((ALICE, "APPROVED"), (BOB, "REJECTED")):
        payload = n.ApprovalResult(
            approval_id=f"appr-{requester}", opportunity_id="deal-a", requester_id=requester, status=status
        )
        t.add(E.APPROVAL_RESULT, payload, subject=f"appr-{requester}")


def expected_reports(t: Timeline) -> dict:
    """What a manager must read after ``a_month_of_activity``."""
    today = datetime.now(UTC).date()
    per_day = {(today - timedelta(days=29 - i)).isoformat(): 0 for i in range(30)}
    for event in t.events:
        day = event.time.date().isoformat()
        if event.type == E.CUSTOMER_CREATED and day in per_day:
            per_day[day] += 1
    return {
        "sales-summary": {
            "pipeline": [
                {"stage": "LEAD", "currency": "USD", "count": 1, "value": "49.99"},
                {"stage": "PROPOSAL", "currency": "EUR", "count": 1, "value": "300.25"},
                {"stage": "WON", "currency": "USD", "count": 2, "value": "3200.00"},
                {"stage": "LOST", "currency": "USD", "count": 1, "value": "500.50"},
            ],
            "openValue": [{"currency": "EUR", "value": "300.25"}, {"currency": "USD", "value": "49.99"}],
            "dealsWon": 2,
            "dealsLost": 1,
            "winRate": 0.6667,
            "valueWon": [{"currency": "USD", "value": "3200.00"}],
        },
        "customers": {
            "total": 4,
            "deleted": 1,
            "restored": 1,
            "byIndustry": {"Finance": 1, "Healthcare": 1, "Retail": 1, "Technology": 1},
            "bySize": {"ENTERPRISE": 1, "MEDIUM": 1, "SMALL": 1, "UNSPECIFIED": 1},
            "createdPerDay": [{"day": d, "count": k} for d, k in per_day.items()],
        },
        "approvals": {
            "total": 4,
            "byStatus": {"APPROVED": 1, "PENDING": 1, "RECALLED": 1, "REJECTED": 1},
            "decided": 2,
            "averageDecisionHours": 3.0,
        },
        "tasks": {
            "created": 5,
            "completed": 1,
            "cancelled": 1,
            "open": 3,
            "overdue": 2,
            "completionRate": 0.25,
            "byPriority": {
                "HIGH": {"created": 1, "completed": 0, "cancelled": 0, "open": 1, "overdue": 1},
                "LOW": {"created": 1, "completed": 0, "cancelled": 1, "open": 0, "overdue": 0},
                "MEDIUM": {"created": 2, "completed": 1, "cancelled": 0, "open": 1, "overdue": 1},
                "URGENT": {"created": 1, "completed": 0, "cancelled": 0, "open": 1, "overdue": 0},
            },
            "byKind": {
                "first_contact": {"created": 1, "completed": 0, "cancelled": 0, "open": 1, "overdue": 1},
                "follow_up": {"created": 1, "completed": 0, "cancelled": 1, "open": 0, "overdue": 0},
                "manual": {"created": 3, "completed": 1, "cancelled": 0, "open": 2, "overdue": 1},
            },
        },
        "meetings": {"created": 3, "scheduled": 1, "completed": 1, "cancelled": 1},
        "users": {"total": 2, "deleted": 1, "byRole": {"ADMIN": 1, "USER": 1}},
    }
