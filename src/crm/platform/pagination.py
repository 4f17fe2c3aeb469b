"""The one way lists are paged and sorted: a total over the filtered query and one ordered slice of it.

A list endpoint declares its sort allow-list once (``Sortable``: wire name → column); the route takes
``sort: Literal[...]`` built from the same names (``field`` ascending, ``-field`` descending), so an unknown
field is a 422 naming ``sort`` with the allowed values, and the OpenAPI lists them as an enum."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

SORT_DESCRIPTION = "a field to sort by before paging, `-field` for descending; ties in id order"


@dataclass(frozen=True)
class Sortable:
    """One list's sort allow-list: ``columns`` (wire name → column or SQL expression), the ``tiebreak``
    (a unique column, the id) that keeps pages from overlapping, and the ``default`` order (ending in it)."""

    columns: Mapping[str, Any]
    tiebreak: Any
    default: Sequence[Any]

    def values(self) -> tuple[str, ...]:
        """The accepted ``sort`` values: each field, then each ``-field``."""
        return (*self.columns, *(f"-{name}" for name in self.columns))

    def order(self, sort: str | None) -> tuple[Any, ...]:
        """The ORDER BY for ``sort`` (the default without one). Empty values come last either way, on every
        database (SQLite puts NULL first, PostgreSQL last). Raises KeyError for a field not allowed."""
        if not sort:
            return tuple(self.default)
        column = self.columns[sort.removeprefix("-")]
        direction = column.desc() if sort.startswith("-") else column.asc()
        return (column.is_(None), direction, self.tiebreak)


async def count_rows(session: AsyncSession, query: Select[*tuple[Any, ...]]) -> int:
    """How many rows ``query`` (filters applied, no limit) matches."""
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def paginate(
    session: AsyncSession, query: Select[T], order_by: Sequence[Any], *, limit: int, offset: int
) -> tuple[Sequence[T], int]:
    """(the page of ``query`` ordered by ``order_by``, the total matching). End ``order_by`` with a unique
    column (the id) so pages never overlap or skip rows; ``Sortable.order`` does."""
    total = await count_rows(session, query)
    rows = await session.scalars(query.order_by(*order_by).limit(limit).offset(offset))
    return rows.all(), total


def declared_order(column: Any, values: Sequence[str]) -> Any:
    """``column`` ranked in the order ``values`` are declared (a workflow: TODO before COMPLETED; a
    scale: LOW before URGENT), not alphabetically; anything else is empty (NULL), so it sorts last."""
    return case({value: rank for rank, value in enumerate(values)}, value=column)
