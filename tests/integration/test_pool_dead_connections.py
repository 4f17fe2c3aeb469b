"""Pooled connections that PostgreSQL closed (a restart, an idle timeout) never turn a request into a 500:
one idle for a while is pinged and replaced before use; one in steady use is not pinged (a ping per checkout
is three round trips), so if it died its first statement fails as "unavailable" (a 503, nothing done) and the
next transactions get fresh connections."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text

from crm.localinfra import PostgresCluster
from crm.platform import db as db_module
from crm.platform.db import Database, database_unavailable

pytestmark = pytest.mark.connected


@pytest.fixture
async def database(postgres: PostgresCluster) -> AsyncIterator[Database]:
    name = f"pool_{uuid.uuid4().hex[:8]}"
    postgres.create_database(name)
    database = Database(postgres.url(name))
    try:
        yield database
    finally:
        await database.dispose()
        postgres.drop_database(name)


async def backend_pid(database: Database) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(text("SELECT pg_backend_pid()")))


async def terminate(database: Database, pid: int) -> None:
    """Close the pooled connection ``pid`` from PostgreSQL's side, as a restart does."""
    other = await asyncpg.connect(database.url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        assert await other.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await other.close()


async def test_a_connection_killed_while_idle_is_replaced_before_use(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    pid = await backend_pid(database)
    await terminate(database, pid)
    for _ in range(3):
        assert await backend_pid(database) != pid  # no error: the dead one was discarded at checkout


async def test_a_connection_in_steady_use_that_died_fails_as_unavailable_then_the_pool_recovers(
    database: Database,
) -> None:
    pid = await backend_pid(database)
    await terminate(database, pid)
    failures = 0
    for _ in range(3):
        try:
            assert await backend_pid(database) != pid
        except Exception as exc:
            assert database_unavailable(exc), f"{type(exc).__name__}: {exc} would be a 500"
            failures += 1
    assert failures == 1, "a connection in steady use is not pinged"
    assert await backend_pid(database) != pid
