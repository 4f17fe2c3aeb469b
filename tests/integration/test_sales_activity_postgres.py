"""sales-activity on PostgreSQL, as in production: its migrations build its models, and two instances
running the due-soon check or applying the same CUSTOMER_CREATED at once act once between them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from crm.contracts.payloads.customers import CustomerCreated
from crm.localinfra import PostgresCluster
from crm.platform.db import Database
from crm.platform.outbox import Outbox
from crm.platform.security import Principal
from crm.platform.unit_of_work import Tx, UnitOfWork
from crm.services.sales_activity import service
from crm.services.sales_activity.app import SPEC
from crm.services.sales_activity.models import OUTBOX, Base, Task
from crm.services.sales_activity.schemas import TaskCreate

pytestmark = pytest.mark.connected


@pytest.fixture
async def db(postgres: PostgresCluster) -> AsyncIterator[Database]:
    name = f"sales_activity_{uuid.uuid4().hex[:8]}"
    postgres.create_database(name)
    database = Database(postgres.url(name))
    await database.migrate(SPEC.migrations, lock_name="crm-migrate-sales_activity")
    try:
        yield database
    finally:
        await database.dispose()
        postgres.drop_database(name)


async def test_the_migrations_build_exactly_the_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
            )
        )
    assert diff == []


async def test_two_instances_checking_at_once_announce_each_task_once(db: Database) -> None:
    uow = UnitOfWork(db, Outbox(OUTBOX), "sales_activity")
    rep = Principal(id="rep-1", email="rep@example.com", role="SALES")
    due = datetime.now(UTC) + timedelta(hours=3)
    async with uow() as tx:
        for n in range(3):
            await service.create_task(tx, TaskCreate(title=f"Task {n}", due_date=due), rep)

    async with db.transaction() as first, db.transaction() as second:
        claimed = await service.notify_due_soon(Tx(first, uow.outbox, "a"))
        skipped = await service.notify_due_soon(Tx(second, uow.outbox, "b"))  # rows locked by the first
    async with uow() as tx:
        again = await service.notify_due_soon(tx)
    assert (claimed, skipped, again) == (3, 0, 0)
    async with db.sessions() as session:
        notices = await session.scalar(
            select(func.count()).select_from(OUTBOX).where(OUTBOX.c.event_type == "TASK_DUE_SOON")
        )
    assert notices == 3


async def test_the_first_contact_task_exists_once_whatever_the_deliveries(db: Database) -> None:
    uow = UnitOfWork(db, Outbox(OUTBOX), "sales_activity")
    event = CustomerCreated(customer_id=str(uuid.uuid4()), name="Acme", owner_id="rep-1")
    async with uow() as tx:
        first = await service.on_customer_created(tx, event)
    async with uow() as tx:
        second = await service.on_customer_created(tx, event)
    assert first is not None and first.kind == "first_contact" and second is None
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Task)) == 1
