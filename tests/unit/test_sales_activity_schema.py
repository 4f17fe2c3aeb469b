"""sales-activity's tables as its migrations build them match its models; its request bodies read times
as UTC; its due-soon job reads its interval from the runtime once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import ValidationError

from crm.platform.db import Database
from crm.platform.settings import ConfigError, Settings
from crm.services.sales_activity.app import SPEC
from crm.services.sales_activity.config import SalesActivityConfig
from crm.services.sales_activity.models import Base
from crm.services.sales_activity.schemas import MeetingCreate, TaskUpdate


async def test_the_migrations_build_exactly_the_models(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'sales_activity.sqlite3'}")
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


def test_times_without_a_zone_are_utc_and_others_are_converted() -> None:
    naive = MeetingCreate.model_validate({"customerId": "c", "title": "T", "startsAt": "2030-05-01T09:00:00"})
    tokyo = MeetingCreate.model_validate(
        {"customerId": "c", "title": "T", "startsAt": "2030-05-01T18:00:00+09:00"}
    )
    assert naive.starts_at == tokyo.starts_at == datetime(2030, 5, 1, 9, tzinfo=UTC)
    assert tokyo.starts_at.utcoffset() == timedelta(0) and tokyo.starts_at.tzinfo is UTC
    assert naive.starts_at.astimezone(timezone(timedelta(hours=9))).hour == 18


def test_a_patch_knows_what_was_sent_and_refuses_null_for_required_fields() -> None:
    patch = TaskUpdate.model_validate({"description": None})
    assert patch.model_fields_set == {"description"}
    with pytest.raises(ValidationError):
        TaskUpdate.model_validate({"title": None})


def test_the_check_interval_comes_from_the_environment() -> None:
    assert Settings.from_env("sales_activity", {}).service_config(
        SalesActivityConfig.from_env
    ) == SalesActivityConfig(60)
    configured = Settings.from_env("sales_activity", {"DUE_SOON_CHECK_INTERVAL_SECONDS": "5"})
    assert configured.service_config(SalesActivityConfig.from_env).due_soon_check_interval_seconds == 5
    with pytest.raises(ConfigError, match="DUE_SOON_CHECK_INTERVAL_SECONDS"):
        Settings.from_env("sales_activity", {"DUE_SOON_CHECK_INTERVAL_SECONDS": "soon"}).service_config(
            SalesActivityConfig.from_env
        )
