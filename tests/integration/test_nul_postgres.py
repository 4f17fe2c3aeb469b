"""Why a NUL character is refused at the door (``crm.platform.nul``): PostgreSQL cannot compare or store one,
so the same search that SQLite answers would be a driver error — a 500 — on the production database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.exc import DBAPIError

from crm.localinfra import PostgresCluster
from crm.platform.db import Database
from crm.platform.outbox import Outbox
from crm.platform.security import Principal
from crm.platform.unit_of_work import UnitOfWork
from crm.services.customer import service
from crm.services.customer.app import SPEC
from crm.services.customer.models import OUTBOX

pytestmark = pytest.mark.connected
MANAGER = Principal(id="manager-1", email="manager@example.com", role="MANAGER")


@pytest.fixture
async def uow(postgres: PostgresCluster) -> AsyncIterator[UnitOfWork]:
    name = f"customer_{uuid.uuid4().hex[:8]}"
    postgres.create_database(name)
    database = Database(postgres.url(name))
    await database.migrate(SPEC.migrations, lock_name="crm-migrate-customer")
    try:
        yield UnitOfWork(database, Outbox(OUTBOX), "customer")
    finally:
        await database.dispose()
        postgres.drop_database(name)


async def test_postgresql_refuses_a_nul_that_the_api_must_catch_first(uow: UnitOfWork) -> None:
    async with uow() as tx:
        rows, total = await service.list_customers(tx, MANAGER, limit=10, offset=0, q="100%_'\\")
    assert (list(rows), total) == ([], 0), "wildcards and quotes are plain text on PostgreSQL too"
    with pytest.raises(DBAPIError):
        async with uow() as tx:
            await service.list_customers(tx, MANAGER, limit=10, offset=0, q="a\x00b")
