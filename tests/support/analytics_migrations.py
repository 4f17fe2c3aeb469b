"""analytics' migrations against a database (SQLite in unit tests, PostgreSQL in integration tests)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, bindparam, text

from crm.platform.db import Database, alembic_config
from crm.platform.types import UtcDateTime
from crm.services.analytics.app import SPEC
from crm.services.analytics.models import Base


async def schema_diff(db: Database) -> list[object]:
    """What differs between analytics' models and the tables its migrations build (twice: idempotent)."""
    await db.migrate(SPEC.migrations, lock_name="test")
    await db.migrate(SPEC.migrations, lock_name="test")
    async with db.engine.connect() as conn:
        return list(
            await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
        )


async def closing_days_after_upgrade(db: Database) -> dict[str, date | None]:
    """Deals won, lost and open at revision 0002 (their last change late on 4 March 2026, UTC), then
    migrated to head: each deal's ``closed_on``."""

    def upgrade(sync: Connection, revision: str) -> None:
        command.upgrade(alembic_config(SPEC.migrations, sync), revision)

    insert = text(
        "INSERT INTO opportunities (id, stage, amount_cents, state_at) VALUES (:i, :s, 0, :t)"
    ).bindparams(bindparam("t", type_=UtcDateTime))
    async with db.engine.begin() as conn:
        await conn.run_sync(upgrade, "0002")
        for deal_id, stage in (("won", "WON"), ("lost", "LOST"), ("open", "LEAD")):
            await conn.execute(
                insert, {"i": deal_id, "s": stage, "t": datetime(2026, 3, 4, 23, 30, tzinfo=UTC)}
            )
    await db.migrate(SPEC.migrations, lock_name="test")
    async with db.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id, closed_on FROM opportunities"))).all()
    return {deal_id: None if day is None else date.fromisoformat(str(day)) for deal_id, day in rows}
