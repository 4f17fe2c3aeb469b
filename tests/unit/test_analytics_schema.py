"""analytics' tables as its migrations build them match its models; the closing day of deals already closed
when ``opportunities.closed_on`` arrived is filled in from their last state change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from crm.platform.db import Database
from tests.support.analytics_migrations import closing_days_after_upgrade, schema_diff


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'analytics.sqlite3'}")
    yield database
    await database.dispose()


async def test_the_migrations_build_exactly_the_models(db: Database) -> None:
    assert await schema_diff(db) == []


async def test_deals_closed_before_the_closing_day_existed_get_it(db: Database) -> None:
    closed = date(2026, 3, 4)
    assert await closing_days_after_upgrade(db) == {"won": closed, "lost": closed, "open": None}
