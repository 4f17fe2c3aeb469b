"""analytics' tables as its migrations build them match its models; the closing day of deals already closed
when ``opportunities.closed_on`` arrived is filled in from their last state change."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text

from crm.platform.db import Database, alembic_config
from crm.services.analytics.app import SPEC
from crm.services.analytics.models import Base


async def test_the_migrations_build_exactly_the_models(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'analytics.sqlite3'}")
    try:
        await db.migrate(SPEC.migrations, lock_name="test")
        await db.migrate(SPEC.migrations, lock_name="test")  # idempotent
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
    finally:
        await db.dispose()
    assert diff == []


async def test_deals_closed_before_the_closing_day_existed_get_it(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'analytics.sqlite3'}")

    def upgrade(sync: Connection, revision: str) -> None:
        command.upgrade(alembic_config(SPEC.migrations, sync), revision)

    closed_at = datetime(2026, 3, 4, 23, 30, tzinfo=UTC).replace(tzinfo=None)  # SQLite keeps naive UTC
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(upgrade, "0002")
            for deal_id, stage in (("won", "WON"), ("lost", "LOST"), ("open", "LEAD")):
                await conn.execute(
                    text(
                        "INSERT INTO opportunities (id, stage, amount_cents, state_at) VALUES (:i, :s, 0, :t)"
                    ),
                    {"i": deal_id, "s": stage, "t": closed_at},
                )
        await db.migrate(SPEC.migrations, lock_name="test")
        async with db.engine.connect() as conn:
            rows = dict((await conn.execute(text("SELECT id, closed_on FROM opportunities"))).all())
    finally:
        await db.dispose()
    assert {k: v and date.fromisoformat(str(v)) for k, v in rows.items()} == {
        "won": date(2026, 3, 4),
        "lost": date(2026, 3, 4),
        "open": None,
    }
