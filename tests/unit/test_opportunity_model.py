"""opportunity-service's storage and bodies: exact amounts on SQLite and PostgreSQL, the hand-written
migration (up, down, up), the one-pending-approval index, and what the request bodies accept."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from crm.platform.db import Database, alembic_config
from crm.services.opportunity.app import SPEC
from crm.services.opportunity.models import Approval, Money, Opportunity
from crm.services.opportunity.schemas import OpportunityCreate, OpportunityUpdate, Stage


def test_money_is_integer_hundredths_on_sqlite_and_numeric_on_postgresql() -> None:
    money = Money()
    lite, pg = sqlite.dialect(), postgresql.dialect()
    assert money.process_bind_param(Decimal("9999999999999999.99"), lite) == 999999999999999999
    assert money.process_result_value(999999999999999999, lite) == Decimal("9999999999999999.99")
    assert str(money.process_result_value(150000000, lite)) == "1500000.00"
    assert money.process_bind_param(Decimal("12.5"), pg) == Decimal("12.50")
    assert str(money.process_result_value(Decimal("7"), pg)) == "7.00"
    assert money.process_bind_param(None, lite) is None and money.process_result_value(None, pg) is None
    assert str(money.load_dialect_impl(pg).compile(dialect=pg)) == "NUMERIC(18, 2)"


async def migrated(tmp_path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'opportunity.sqlite3'}")
    await db.migrate(SPEC.migrations, lock_name="test")
    return db


async def test_the_migration_goes_down_and_up_again(tmp_path: Path) -> None:
    from alembic import command

    db = await migrated(tmp_path)
    try:
        async with db.engine.begin() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            assert {"opportunities", "approvals", "customers", "outbox", "inbox"} <= tables
            indexes = await conn.run_sync(lambda c: {i["name"] for i in inspect(c).get_indexes("approvals")})
            assert {"ix_approvals_status_role", "ux_approvals_one_pending"} <= indexes
            await conn.run_sync(lambda c: command.downgrade(alembic_config(SPEC.migrations, c), "0001"))
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            assert "opportunities" not in tables and "outbox" in tables
            await conn.run_sync(lambda c: command.upgrade(alembic_config(SPEC.migrations, c), "head"))
    finally:
        await db.dispose()


async def test_amounts_round_trip_exactly_and_one_approval_is_pending_per_deal(tmp_path: Path) -> None:
    db = await migrated(tmp_path)
    try:
        async with db.transaction() as session:
            session.add(
                Opportunity(
                    id="o-1",
                    customer_id="c-1",
                    name="Deal",
                    amount=Decimal("9999999999999999.99"),
                    currency="JPY",
                    stage="LEAD",
                    probability=10,
                    owner_id="u-1",
                    created_by="u-1",
                    activity_count=0,
                )
            )
        async with db.sessions() as session:
            assert await session.scalar(select(Opportunity.amount)) == Decimal("9999999999999999.99")
            found = await session.scalar(select(Opportunity.id).where(Opportunity.amount > Decimal("1e15")))
            assert found == "o-1", "comparisons bind through the same exact type"

        def approval(approval_id: str, status: str) -> Approval:
            return Approval(
                id=approval_id,
                opportunity_id="o-1",
                customer_id="c-1",
                requester_id="u-1",
                approver_role="MANAGER",
                title="T",
                status=status,
            )

        async with db.transaction() as session:
            session.add_all(
                [approval("a-1", "PENDING"), approval("a-2", "APPROVED"), approval("a-3", "RECALLED")]
            )
        with pytest.raises(IntegrityError):
            async with db.transaction() as session:
                session.add(approval("a-4", "PENDING"))
    finally:
        await db.dispose()


def test_create_body_defaults_and_limits() -> None:
    body = OpportunityCreate.model_validate({"customerId": "c", "name": "  Deal  ", "amount": "10.5"})
    assert (body.name, body.amount, body.currency, body.stage, body.probability) == (
        "Deal",
        Decimal("10.5"),
        "JPY",
        Stage.LEAD,
        None,
    )
    for bad in ({"amount": "1e20"}, {"amount": "NaN"}, {"amount": "-0.01"}, {"currency": "usd"}):
        with pytest.raises(ValidationError):
            OpportunityCreate.model_validate({"customerId": "c", "name": "D", "amount": "1", **bad})


def test_update_body_knows_what_was_sent_and_refuses_nulls() -> None:
    update = OpportunityUpdate.model_validate({"expectedCloseDate": None})
    assert update.model_fields_set == {"expected_close_date"}
    with pytest.raises(ValidationError) as caught:
        OpportunityUpdate.model_validate({"stage": None, "amount": None})
    assert {e["loc"][0] for e in caught.value.errors()} == {"stage", "amount"}
