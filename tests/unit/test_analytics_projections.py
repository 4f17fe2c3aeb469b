"""analytics' projections on their own database: late, stale and repeated news of an entity, and money."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from crm.contracts import CATALOG, EventType, make_event
from crm.contracts.base import Payload
from crm.contracts.payloads.customers import CustomerCreated, CustomerUpdated
from crm.contracts.payloads.opportunities import ApprovalRequested, ApprovalStatusChanged
from crm.contracts.payloads.sales_activity import TaskCompleted, TaskCreated, TaskUpdated
from crm.contracts.payloads.users import UserCreated, UserUpdated
from crm.platform.db import Database
from crm.platform.events import Envelope
from crm.platform.outbox import Outbox
from crm.platform.unit_of_work import Tx
from crm.services.analytics.app import SPEC
from crm.services.analytics.handlers import EVENT_HANDLERS
from crm.services.analytics.models import OUTBOX, ApprovalRow, CustomerRow, TaskRow, UserRow
from crm.services.analytics.projections.metrics import count_event
from crm.services.analytics.projections.notifications import notification_id
from crm.services.analytics.projections.pipeline import from_cents, to_cents
from crm.services.analytics.projections.timeline import record_customer_activity

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'analytics.sqlite3'}")
    await database.migrate(SPEC.migrations, lock_name="crm-migrate-analytics")
    yield database
    await database.dispose()


def event(event_type: EventType, payload: Payload, subject: str, at: datetime) -> Envelope:
    return replace(make_event(event_type, payload, subject=subject, source="test"), time=at)


async def apply(db: Database, *events: Envelope) -> None:
    """Each event in its own transaction, through every handler analytics registers for its type."""
    for e in events:
        async with db.transaction() as session:
            tx = Tx(session, Outbox(OUTBOX), "analytics")
            for handler in EVENT_HANDLERS[e.type]:
                await handler(tx, e)
            await tx.finish()


async def row(db: Database, model: type, row_id: str):  # type: ignore[no-untyped-def]
    async with db.sessions() as session:
        return (await session.scalars(select(model).where(model.id == row_id))).one()


def test_every_event_type_is_counted_then_projected() -> None:
    assert set(EVENT_HANDLERS) == set(CATALOG)
    assert all(handlers[0] is count_event for handlers in EVENT_HANDLERS.values())
    # Security events (a revoked token, a revoked API key) are counted, with no read model to project into.
    counted_only = {EventType.TOKEN_REVOKED, EventType.API_KEY_REVOKED}
    # Every event about a customer or its work is also a line of that customer's timeline.
    not_about_a_customer = {
        *counted_only,
        EventType.USER_CREATED,
        EventType.USER_UPDATED,
        EventType.USER_DELETED,
        EventType.TASK_DUE_SOON,
        EventType.APPROVAL_RESULT,
    }
    on_timeline = {t for t, handlers in EVENT_HANDLERS.items() if record_customer_activity in handlers}
    assert on_timeline == set(EVENT_HANDLERS) - not_about_a_customer
    expected = {t: 1 + (t not in counted_only) + (t in on_timeline) for t in EVENT_HANDLERS}
    assert {t: len(handlers) for t, handlers in EVENT_HANDLERS.items()} == expected


async def test_a_task_completed_before_its_creation_arrives_counts_as_created_and_completed(
    db: Database,
) -> None:
    created = TaskCreated(task_id="t", title="T", status="TODO", priority="HIGH", kind="follow_up")
    done = TaskCompleted(task_id="t", completed_by="u")
    await apply(db, event(EventType.TASK_COMPLETED, done, "t", T0 + timedelta(hours=1)))
    await apply(db, event(EventType.TASK_CREATED, created, "t", T0))
    task = await row(db, TaskRow, "t")
    assert (task.status, task.kind, task.priority, task.created_on) == (
        "COMPLETED",
        "follow_up",
        "HIGH",
        T0.date(),
    )


async def test_an_older_update_arriving_late_changes_nothing(db: Database) -> None:
    def promoted(role: str) -> UserUpdated:
        return UserUpdated(user_id="u", email="u@x.com", name="U", role=role, changed=["role"])

    signup = UserCreated(user_id="u", email="u@x.com", name="U", role="USER", created_at=T0)
    await apply(
        db,
        event(EventType.USER_CREATED, signup, "u", T0),
        event(EventType.USER_UPDATED, promoted("ADMIN"), "u", T0 + timedelta(minutes=2)),
        event(EventType.USER_UPDATED, promoted("MANAGER"), "u", T0 + timedelta(minutes=1)),
    )
    assert (await row(db, UserRow, "u")).role == "ADMIN"


@pytest.mark.parametrize("change", ["Retail", {"from": "Tech", "to": "Retail"}])
async def test_a_customer_update_moves_it_to_its_new_industry(db: Database, change: object) -> None:
    await apply(
        db,
        event(
            EventType.CUSTOMER_CREATED,
            CustomerCreated(customer_id="c", name="C", industry="Technology"),
            "c",
            T0,
        ),
        event(
            EventType.CUSTOMER_UPDATED,
            CustomerUpdated(customer_id="c", changes={"industry": change}),
            "c",
            T0 + timedelta(seconds=1),
        ),
    )
    assert (await row(db, CustomerRow, "c")).industry == "Retail"


async def test_decision_time_is_known_whichever_end_arrives_first(db: Database) -> None:
    asked = ApprovalRequested(
        approval_id="a",
        opportunity_id="o",
        customer_id="c",
        requester_id="u",
        approver_role="MANAGER",
        title="Discount",
    )
    decided = ApprovalStatusChanged(
        approval_id="a",
        opportunity_id="o",
        customer_id="c",
        requester_id="u",
        status="APPROVED",
        previous_status="PENDING",
    )
    await apply(db, event(EventType.APPROVAL_STATUS_CHANGED, decided, "a", T0 + timedelta(minutes=90)))
    await apply(db, event(EventType.APPROVAL_REQUESTED, asked, "a", T0))
    approval = await row(db, ApprovalRow, "a")
    assert (approval.status, approval.decision_seconds) == ("APPROVED", 5400.0)


async def test_a_task_update_that_carries_the_due_date_moves_it(db: Database) -> None:
    created = TaskCreated(task_id="t", title="T", status="TODO", priority="LOW", due_date=T0)
    later = T0 + timedelta(days=7)
    updated = event(
        EventType.TASK_UPDATED,
        TaskUpdated(task_id="t", status="TODO", priority="LOW", changed=["dueDate"]),
        "t",
        T0 + timedelta(seconds=1),
    )
    updated = replace(updated, data={**updated.data, "dueDate": later.isoformat()})
    await apply(db, event(EventType.TASK_CREATED, created, "t", T0), updated)
    assert (await row(db, TaskRow, "t")).due_date == later


def test_amounts_are_kept_exactly_in_hundredths() -> None:
    assert to_cents(Decimal("12345678901234.56")) == 1234567890123456
    assert from_cents(to_cents(Decimal("0.1")) + to_cents(Decimal("0.2"))) == Decimal("0.30")
    assert str(from_cents(to_cents(Decimal("2000")))) == "2000.00"


def test_a_notification_id_is_the_same_for_the_same_source_event() -> None:
    assert notification_id("e-1") == notification_id("e-1") != notification_id("e-2")
