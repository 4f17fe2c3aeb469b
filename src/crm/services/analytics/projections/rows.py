"""A transaction's read-model rows, set-based: loaded for a consumer's whole batch in one SELECT per table,
changed in memory by the handlers (in the batch's order, so one entity's events apply in turn), and written
back just before the commit: the new rows in one INSERT per table, the changed columns of the others in one
UPDATE per table and set of columns (many parameter sets each).

A handler names the row it changes with :func:`loads` (the payload field holding its id), so the batch hook
:func:`preloader` can fetch every such row before the first handler runs. Correctness never depends on it: a
row nobody loaded is fetched by :func:`get_or_new` on its own (one SELECT), as when a handler is called
outside a consumer's batch.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Select, String, Table, Update, any_, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from crm.platform.consumer import BatchHook, Handler
from crm.platform.events import Envelope
from crm.platform.unit_of_work import Tx

Row = TypeVar("Row", bound=DeclarativeBase)
H = TypeVar("H", bound=Callable[[Tx, Envelope], Awaitable[None]])

# Ids per statement: far below SQLite's and asyncpg's bound-parameter limits (32,766).
_CHUNK = 2000
_NAMED: dict[Callable[..., Any], tuple[type[DeclarativeBase], str]] = {}


class _Draft:
    """A row's columns as plain attributes: an ORM instance costs ~100 times more to make and change, and
    the batch writes these back itself."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)


class BatchRows:
    """The rows one transaction has loaded or created, by table and id, and what each held when loaded."""

    def __init__(self) -> None:
        self.rows: dict[Table, dict[str, _Draft]] = {}
        self.loaded: dict[Table, dict[str, dict[str, Any]]] = {}  # a row's values as read; new: absent

    async def load(self, tx: Tx, table: Table, ids: Iterable[str]) -> None:
        """Fetch the rows ``ids`` of ``table`` not known yet (one SELECT per 2,000 ids); ids with no row
        are remembered as new, so nothing asks for them again."""
        known = self.rows.setdefault(table, {})
        wanted = sorted({i for i in ids if i not in known})
        loaded = self.loaded.setdefault(table, {})
        dialect = tx.session.bind.dialect.name if tx.session.bind is not None else "sqlite"
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            result = await tx.session.execute(_select(dialect, table), {"ids": chunk})
            for mapping in result.mappings():
                values = dict(mapping)
                loaded[values["id"]] = values
                known[values["id"]] = _Draft(values)
            for row_id in chunk:
                if row_id not in known:
                    known[row_id] = _new(table, row_id)

    async def write(self, tx: Tx) -> None:
        """Insert the new rows (one statement per table) and update the changed columns of the others (one
        statement per table and set of changed columns), in id order: one lock order for every writer.

        As the ORM would: a row that another consumer inserted meanwhile makes the insert fail (the batch
        is then applied again one event at a time, finding it), and an update writes only what changed."""
        for table, rows in self.rows.items():
            loaded = self.loaded.get(table, {})
            new: list[dict[str, Any]] = []
            changed: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row_id, row in sorted(rows.items()):
                values, before = vars(row), loaded.get(row_id)
                if before is None:
                    new.append(values)
                elif values != before:
                    diff = {k: v for k, v in values.items() if before[k] != v}
                    changed.setdefault(tuple(diff), []).append({"row_id": row_id, **diff})
            if new:
                await tx.session.execute(insert(table), new)
            for columns, params in changed.items():
                await tx.session.execute(_update(table, columns), params)


@functools.cache
def _select(dialect: str, table: Table) -> Select[Any]:
    """The rows of ``table`` whose id is in the parameter ``ids``: built once per table and dialect. On
    PostgreSQL ``= ANY(array)``, one prepared statement whatever the number of ids (an IN list is new SQL
    text, prepared and planned again, for every length)."""
    if dialect == "postgresql":
        ids: Any = table.c.id == any_(bindparam("ids", type_=postgresql.ARRAY(String)))
    else:
        ids = table.c.id.in_(bindparam("ids", expanding=True))
    return select(*table.columns).where(ids)


@functools.cache
def _update(table: Table, columns: tuple[str, ...]) -> Update:
    """``UPDATE`` of ``columns`` of the row ``:row_id``, the new values as parameters named after them."""
    return update(table).where(table.c.id == bindparam("row_id")).values({c: bindparam(c) for c in columns})


def _new(table: Table, row_id: str) -> _Draft:
    """A row no event has named before: the columns' defaults (``deleted=False``, counts 0), else None."""
    values = {c.key: _scalar_default(c) for c in table.columns}
    values["id"] = row_id
    return _Draft(values)


def _scalar_default(column: ColumnElement[Any]) -> Any:
    default = getattr(column, "default", None)
    return default.arg if isinstance(default, ScalarElementColumnDefault) else None


def _rows(tx: Tx) -> BatchRows:
    async def write(tx: Tx, rows: BatchRows) -> None:
        await rows.write(tx)

    return tx.accumulate("analytics.rows", BatchRows, write)


async def get_or_new(tx: Tx, model: type[Row], row_id: str) -> Row:
    """The row ``row_id`` of ``model`` as this transaction sees it; a new one (its columns' defaults) when
    an event is its first news. Change its attributes: the transaction writes it back before its commit.

    What comes back has the model's attributes but is not an ORM instance (see :class:`_Draft`)."""
    batch = _rows(tx)
    table = cast(Table, model.__table__)
    row = batch.rows.get(table, {}).get(row_id)
    if row is None:
        await batch.load(tx, table, [row_id])
        row = batch.rows[table][row_id]
    return cast(Row, row)


def loads(model: type[DeclarativeBase], id_field: str) -> Callable[[H], H]:
    """Declare that a handler changes the row of ``model`` whose id is its payload's ``id_field`` (as on the
    wire, camelCase), so :func:`preloader`'s hook fetches it with the rest of the batch."""

    def declare(handler: H) -> H:
        _NAMED[handler] = (model, id_field)
        return handler

    return declare


def preloader(event_handlers: Mapping[str, Sequence[Handler]]) -> BatchHook:
    """The consumer's batch hook for ``event_handlers``: every row the batch's events name (see
    :func:`loads`), fetched in one SELECT per table before the first handler runs."""
    named: dict[str, list[tuple[Table, str]]] = {
        event_type: [(cast(Table, _NAMED[h][0].__table__), _NAMED[h][1]) for h in handlers if h in _NAMED]
        for event_type, handlers in event_handlers.items()
    }

    async def preload(tx: Tx, events: Sequence[Envelope]) -> None:
        ids: dict[Table, list[str]] = {}
        for event in events:
            for table, field in named.get(event.type, ()):
                row_id = event.data.get(field)
                if isinstance(row_id, str):  # else a payload its handler will refuse
                    ids.setdefault(table, []).append(row_id)
        batch = _rows(tx)
        for table, table_ids in ids.items():
            await batch.load(tx, table, table_ids)

    return preload
