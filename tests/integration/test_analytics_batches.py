"""analytics applies a fetched batch set-based (every row its events name loaded in one SELECT per table,
written back in one upsert per table) and still exactly as if each event were applied alone: one entity's
events out of order within a batch, a duplicate inside a batch and across batches, a poison record among
them, and a redelivered batch change nothing but what applying each event once changes. On SQLite (the
embedded mode) and PostgreSQL."""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from crm.contracts import CATALOG, EventType, make_event
from crm.contracts.base import Payload
from crm.contracts.payloads import customers as c
from crm.contracts.payloads import notifications as n
from crm.contracts.payloads import opportunities as o
from crm.contracts.payloads import sales_activity as s
from crm.contracts.payloads import users as u
from crm.localinfra import PostgresCluster
from crm.platform.bus import IncomingRecord
from crm.platform.consumer import EventConsumer
from crm.platform.db import Database
from crm.platform.events import Envelope
from crm.platform.outbox import Outbox
from crm.platform.unit_of_work import Tx
from crm.services.analytics.app import SPEC
from crm.services.analytics.handlers import EVENT_HANDLERS, PREPARE_BATCH
from crm.services.analytics.models import INBOX, OUTBOX, READ_MODELS, CustomerRow, EventCount, TaskRow
from tests.support.faults import DeadLetters

pytestmark = pytest.mark.connected

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
NewDatabase = Callable[[], Awaitable[Database]]


@pytest.fixture(params=["sqlite", "postgresql"])
async def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[NewDatabase]:
    """Makes migrated analytics databases of the parameter's kind (dropped at the end)."""
    made: list[tuple[Database, str]] = []
    postgres: PostgresCluster | None = (
        request.getfixturevalue("postgres") if request.param == "postgresql" else None
    )

    async def make() -> Database:
        name = f"analytics_{uuid.uuid4().hex[:8]}"
        if postgres is not None:
            postgres.create_database(name)
            database = Database(postgres.url(name))
        else:
            database = Database(f"sqlite+aiosqlite:///{tmp_path / name}.sqlite3")
        await database.migrate(SPEC.migrations, lock_name="crm-migrate-analytics")
        made.append((database, name))
        return database

    yield make
    for database, name in made:
        await database.dispose()
        if postgres is not None:
            postgres.drop_database(name)


def analytics(db: Database, bus: DeadLetters | None = None) -> EventConsumer:
    return EventConsumer(
        group="analytics-service",
        service="analytics",
        db=db,
        bus=bus or DeadLetters(),  # type: ignore[arg-type]
        outbox=Outbox(OUTBOX),
        inbox=INBOX,
        handlers=EVENT_HANDLERS,
        topics=sorted({e.topic for e in CATALOG.values()}),
        log=logging.LoggerAdapter(logging.getLogger("test.analytics"), {"service": "analytics-service"}),
        retry_delay=0.001,
        known_types=CATALOG,
        prepare=PREPARE_BATCH,
    )


def at(event_type: EventType, payload: Payload, subject: str, minutes: float) -> Envelope:
    event = make_event(event_type, payload, subject=subject, source="test")
    return replace(event, time=T0 + timedelta(minutes=minutes))


def story(k: int) -> list[Envelope]:
    """The life of one user, customer, task, meeting, deal and approval, in the order it happened."""
    user, customer, task, meeting = f"u{k}", f"c{k}", f"t{k}", f"m{k}"
    deal, approval, amount = f"d{k}", f"a{k}", Decimal("1234.50") + k
    return [
        at(EventType.USER_CREATED, u.UserCreated(
            user_id=user, email=f"{user}@x.com", name=user, role="SALES", created_at=T0), user, 0),
        at(EventType.USER_UPDATED, u.UserUpdated(
            user_id=user, email=f"{user}@x.com", name=user, role="MANAGER", changed=["role"]), user, 1),
        at(EventType.CUSTOMER_CREATED, c.CustomerCreated(
            customer_id=customer, name=customer, industry="Retail", size="SMALL", owner_id=user,
            created_by=user), customer, 2),
        at(EventType.CUSTOMER_UPDATED, c.CustomerUpdated(
            customer_id=customer, owner_id=user, changes={"industry": {"from": "Retail", "to": "Finance"}}),
            customer, 3),
        at(EventType.CUSTOMER_DELETED, c.CustomerDeleted(
            customer_id=customer, owner_id=user, deleted_by=user), customer, 4),
        at(EventType.CUSTOMER_RESTORED, c.CustomerRestored(
            customer_id=customer, owner_id=user, restored_by=user), customer, 5),
        at(EventType.TASK_CREATED, s.TaskCreated(
            task_id=task, title="Call", customer_id=customer, assignee_id=user, status="TODO",
            priority="HIGH", due_date=T0 + timedelta(days=2), kind="first_contact"), task, 6),
        at(EventType.TASK_UPDATED, s.TaskUpdated(
            task_id=task, customer_id=customer, assignee_id=user, status="IN_PROGRESS", priority="LOW",
            changed=["status", "priority"]), task, 7),
        at(EventType.TASK_DUE_SOON, n.TaskDueSoon(
            task_id=task, assignee_id=user, title="Call", due_date=T0 + timedelta(days=2),
            customer_id=customer), task, 8),
        at(EventType.TASK_COMPLETED, s.TaskCompleted(
            task_id=task, customer_id=customer, assignee_id=user, completed_by=user), task, 9),
        at(EventType.MEETING_CREATED, s.MeetingCreated(
            meeting_id=meeting, customer_id=customer, owner_id=user, title="Demo",
            starts_at=T0 + timedelta(days=1)), meeting, 10),
        at(EventType.MEETING_UPDATED, s.MeetingUpdated(
            meeting_id=meeting, customer_id=customer, owner_id=user, status="COMPLETED",
            changed=["status"]), meeting, 11),
        at(EventType.OPPORTUNITY_CREATED, o.OpportunityCreated(
            opportunity_id=deal, customer_id=customer, name="Deal", amount=amount, currency="USD",
            stage="PROSPECTING", owner_id=user), deal, 12),
        at(EventType.OPPORTUNITY_STAGE_CHANGED, o.OpportunityStageChanged(
            opportunity_id=deal, customer_id=customer, owner_id=user, from_stage="PROSPECTING",
            to_stage="WON", amount=amount, currency="USD"), deal, 13),
        at(EventType.APPROVAL_REQUESTED, o.ApprovalRequested(
            approval_id=approval, opportunity_id=deal, customer_id=customer, requester_id=user,
            approver_role="MANAGER", title="Discount"), approval, 14),
        at(EventType.APPROVAL_STATUS_CHANGED, o.ApprovalStatusChanged(
            approval_id=approval, opportunity_id=deal, customer_id=customer, requester_id=user,
            status="APPROVED", previous_status="PENDING", decided_by="boss"), approval, 15),
        at(EventType.APPROVAL_RESULT, n.ApprovalResult(
            approval_id=approval, opportunity_id=deal, requester_id=user, status="APPROVED",
            decided_by="boss"), approval, 16),
    ]  # fmt: skip


def as_records(events: Sequence[Envelope], start: int = 0) -> list[IncomingRecord]:
    return [
        IncomingRecord(e.topic, 0, start + i, e.subject.encode(), e.to_json(), e.headers())
        for i, e in enumerate(events)
    ]


async def read_models(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every read model's rows, sorted (what the reports and timelines are computed from)."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    async with db.sessions() as session:
        for model in READ_MODELS:
            rows = (await session.execute(select(*model.__table__.columns))).all()
            tables[model.__tablename__] = sorted((tuple(map(repr, row)) for row in rows), key=str)
    return tables


async def test_a_shuffled_batch_with_duplicates_ends_as_each_event_applied_once_alone(
    new_database: NewDatabase,
) -> None:
    events = [e for k in range(4) for e in story(k)]
    arrivals = events[:]
    random.Random(8).shuffle(arrivals)  # one entity's events out of order, within and across batches
    arrivals.insert(10, arrivals[3])  # a duplicate inside a batch
    arrivals.insert(40, arrivals[5])  # and one of an earlier batch
    alone, batched = await new_database(), await new_database()
    one_by_one = analytics(alone)
    for record in as_records(arrivals):
        await one_by_one.process(record)
    consumer = analytics(batched)
    records = as_records(arrivals)
    for start in range(0, len(records), 25):
        await consumer.process_batch(records[start : start + 25])
    await consumer.process_batch(records[:25])  # a redelivered batch (its offsets were not committed)

    assert await read_models(batched) == await read_models(alone)
    assert (consumer.applied, consumer.batches_split) == (len(events), 0)
    assert consumer.duplicates == 2 + 25
    async with batched.sessions() as session:
        customers = (await session.scalars(select(CustomerRow).order_by(CustomerRow.id))).all()
        counted = await session.scalar(select(func.sum(EventCount.count)))
    # The newest state wins whatever the arrival order; a restore counts once despite its redelivery.
    assert [(r.deleted, r.restored_count, r.state_at) for r in customers] == [
        (False, 1, T0 + timedelta(minutes=5))
    ] * 4
    assert counted == len(events)


async def test_a_poison_record_in_a_batch_is_dead_lettered_alone(new_database: NewDatabase) -> None:
    db, bus = await new_database(), DeadLetters()
    good = story(1)
    created = next(e for e in good if e.type == EventType.TASK_CREATED)
    # A task whose id is not a string: the batch's row loading must leave it to its handler to refuse.
    poison = replace(created, id=str(uuid.uuid4()), data={**created.data, "taskId": {"not": "an id"}})
    consumer = analytics(db, bus)
    await consumer.process_batch(as_records([*good[:8], poison, *good[8:]]))

    assert [dict(r.headers)["dlq_reason"] for r in bus.published] == [b"invalid-payload"]
    assert (consumer.applied, consumer.dead_lettered, consumer.batches_split) == (len(good), 1, 1)
    async with db.sessions() as session:
        task = await session.get(TaskRow, "t1")
        counted = await session.scalar(select(func.sum(EventCount.count)))
    assert task is not None and (task.status, task.kind, task.priority) == (
        "COMPLETED",
        "first_contact",
        "LOW",
    )
    assert counted == len(good)


async def test_a_later_batch_changes_the_rows_an_earlier_one_wrote(new_database: NewDatabase) -> None:
    db = await new_database()
    events = story(2)
    restore = next(e for e in events if e.type == EventType.CUSTOMER_RESTORED)
    second_restore = replace(restore, id=str(uuid.uuid4()), time=restore.time + timedelta(hours=1))
    consumer = analytics(db)
    await consumer.process_batch(as_records(events))
    # The rows exist now: this batch loads and updates them (and skips the one event it repeats).
    await consumer.process_batch(as_records([second_restore, restore], start=len(events)))
    async with db.sessions() as session:
        customer = await session.get(CustomerRow, "c2")
        counted = await session.scalar(select(func.sum(EventCount.count)))
    assert customer is not None
    assert (customer.restored_count, customer.deleted, customer.state_at) == (2, False, second_restore.time)
    assert counted == len(events) + 1


@pytest.mark.parametrize("new_database", ["postgresql"], indirect=True)
async def test_a_row_another_consumer_inserts_meanwhile_is_not_overwritten(new_database: NewDatabase) -> None:
    """Two instances during a rebalance: this batch found no customer, another instance then committed
    its creation. The batch's insert fails on it, and applying the events one by one finds the row."""
    db = await new_database()
    events = story(9)
    created, updated = (e for e in events if e.type in ("CUSTOMER_CREATED", "CUSTOMER_UPDATED"))
    signup, promotion = events[0], events[1]
    consumer, other = analytics(db), analytics(db)
    # The other instance's batch shares no event with this one (an event both claim would make the second
    # wait in the inbox for the first's commit).
    meanwhile = [other.process_batch(as_records([created, promotion]))]

    async def prepare_then_the_other_commits(tx: Tx, events: Sequence[Envelope]) -> None:
        await PREPARE_BATCH(tx, events)
        while meanwhile:
            await meanwhile.pop()

    consumer.prepare = prepare_then_the_other_commits
    await consumer.process_batch(as_records([updated, signup], start=2))

    assert (consumer.batches_split, consumer.applied, other.applied) == (1, 2, 2)
    async with db.sessions() as session:
        customer = await session.get(CustomerRow, "c9")
    assert customer is not None
    assert (customer.industry, customer.size, customer.created_on) == ("Finance", "SMALL", T0.date())
