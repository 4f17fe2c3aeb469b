"""One database per service: the async engine, the unit of work, and the migrations runner.

The entrypoint owns the transaction: a route or a consumer opens :meth:`Database.transaction` and everything
inside (the state change, its outbox rows, the inbox row) commits once, or not at all.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

AFTER_COMMIT = "crm_after_commit"
# A pooled connection idle longer than this is pinged before use (a restart or an idle timeout may have closed
# it meanwhile); one in steady use is not: a ping per checkout is three round trips with asyncpg (BEGIN, `;`,
# ROLLBACK), more than the writes it guards. A connection that died anyway fails its first statement, which
# invalidates the whole pool (the request answers 503: nothing was done) and the next checkouts reconnect.
PING_AFTER_IDLE_SECONDS = 5.0
_IDLE_SINCE = "crm_idle_since"
_UNAVAILABLE_WORDS = ("connection", "shutting down", "starting up", "terminating", "recovery mode", "locked")


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot be reached now (refused, restarting, a dropped connection,
    no pooled connection free), not that the statement is wrong: the same request can succeed later."""
    if isinstance(exc, OSError | sa_exc.TimeoutError):  # TimeoutError: no pooled connection in time
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated or isinstance(exc, sa_exc.InterfaceError):
            return True
        return any(word in str(exc.orig).lower() for word in _UNAVAILABLE_WORDS)
    return False


class Database:
    """The engine and session factory of one service's database. Nothing connects until first use."""

    def __init__(self, url: str, *, echo: bool = False, readers: int = 0) -> None:
        """``readers`` (SQLite only): instead, that many connections that only read, each statement in a
        transaction of its own; in WAL mode they never wait for the writer, nor it for them."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine: AsyncEngine
        if self.is_sqlite and readers:
            _ensure_sqlite_dir(url)
            self.engine = create_async_engine(
                url,
                echo=echo,
                connect_args={"timeout": 30},
                pool_size=readers,
                max_overflow=0,
                pool_timeout=60,
            )
            event.listen(self.engine.sync_engine, "connect", _sqlite_reader_pragmas)
        elif self.is_sqlite:
            _ensure_sqlite_dir(url)
            # One connection per SQLite file: transactions queue on the pool (an asyncio wait, woken at
            # once) instead of in SQLite's busy handler, which sleeps 1..100 ms between lock attempts.
            self.engine = create_async_engine(
                url, echo=echo, connect_args={"timeout": 30}, pool_size=1, max_overflow=0, pool_timeout=60
            )
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin_immediate)
        else:
            self.engine = create_async_engine(url, echo=echo, pool_size=10, max_overflow=20)
            event.listen(self.engine.sync_engine.pool, "checkin", _mark_idle)
            event.listen(self.engine.sync_engine.pool, "checkout", _ping_if_idle)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: commits on normal exit, rolls back on error, then runs
        the callbacks registered with :func:`after_commit` (only after a successful commit)."""
        async with self.sessions() as session:
            async with session.begin():
                yield session
            for callback in session.info.pop(AFTER_COMMIT, []):
                callback()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def migrate(self, script_location: Path, lock_name: str) -> None:
        """Apply the Alembic history in ``script_location`` up to head. On PostgreSQL an advisory lock
        serialises concurrent starts of several instances of the same service."""
        async with self.engine.begin() as conn:
            if not self.is_sqlite:
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(lock_name.encode())}
                )
            await conn.run_sync(_upgrade, script_location)

    async def dispose(self) -> None:
        await self.engine.dispose()


def dialect_insert(session: AsyncSession) -> Any:
    """``insert`` with ``on_conflict_*`` (and RETURNING) for the session's database, PostgreSQL or SQLite."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the current transaction of ``session`` has committed."""
    callbacks: list[Callable[[], None]] = session.info.setdefault(AFTER_COMMIT, [])
    if callback not in callbacks:
        callbacks.append(callback)


def alembic_config(script_location: Path, connection: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, script_location: Path) -> None:
    from alembic import command

    command.upgrade(alembic_config(script_location, connection), "head")


def run_migrations_env(target_metadata: Any) -> None:
    """The body of every service's ``migrations/env.py``: online mode on the connection we hand over."""
    from alembic import context

    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `crm db migrate` or service start, not bare alembic")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _mark_idle(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_IDLE_SINCE] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Checkout: ping a connection that sat idle past PING_AFTER_IDLE_SECONDS; a dead one makes the pool
    discard it and check out another (a fresh connection is never pinged: its ``info`` starts empty)."""
    idle_since = record.info.get(_IDLE_SINCE)
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dbapi_connection.ping()
    except Exception as exc:
        raise sa_exc.DisconnectionError(f"pooled connection dead after idling: {exc}") from exc


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if path and path != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, emit BEGIN (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_reader_pragmas(dbapi_connection: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def _sqlite_begin_immediate(conn: Connection) -> None:
    # Take the write lock up front: a read-then-write transaction would otherwise fail with
    # "database is locked" instead of waiting when the relay, a consumer and a request write at once.
    conn.exec_driver_sql("BEGIN IMMEDIATE")
