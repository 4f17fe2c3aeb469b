"""The one way lists are paged: a total over the filtered query and one ordered slice of it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


async def count_rows(session: AsyncSession, query: Select[*tuple[Any, ...]]) -> int:
    """How many rows ``query`` (filters applied, no limit) matches."""
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def paginate(
    session: AsyncSession, query: Select[T], order_by: Sequence[Any], *, limit: int, offset: int
) -> tuple[Sequence[T], int]:
    """(the page of ``query`` ordered by ``order_by``, the total matching). End ``order_by`` with a unique
    column (the id) so pages never overlap or skip rows."""
    total = await count_rows(session, query)
    rows = await session.scalars(query.order_by(*order_by).limit(limit).offset(offset))
    return rows.all(), total
