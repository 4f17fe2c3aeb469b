"""analytics on PostgreSQL, as in production: its migrations build its models, and the closing day of deals
closed before ``opportunities.closed_on`` existed is filled in."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

import pytest

from crm.localinfra import PostgresCluster
from crm.platform.db import Database
from tests.support.analytics_migrations import closing_days_after_upgrade, schema_diff

pytestmark = pytest.mark.connected


@pytest.fixture
async def db(postgres: PostgresCluster) -> AsyncIterator[Database]:
    name = f"analytics_{uuid.uuid4().hex[:8]}"
    postgres.create_database(name)
    database = Database(postgres.url(name))
    try:
        yield database
    finally:
        await database.dispose()
        postgres.drop_database(name)


async def test_the_migrations_build_exactly_the_models(db: Database) -> None:
    assert await schema_diff(db) == []


async def test_deals_closed_before_the_closing_day_existed_get_it(db: Database) -> None:
    closed = date(2026, 3, 4)
    assert await closing_days_after_upgrade(db) == {"won": closed, "lost": closed, "open": None}
