"""Shapes shared by every API: camelCase JSON models and the one pagination shape."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

T = TypeVar("T")


class ApiModel(BaseModel):
    """camelCase on the wire (``customerId``), snake_case in Python; unknown fields are refused."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, from_attributes=True, extra="forbid"
    )


class Page(ApiModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_text(value: Any, *, day_only: bool) -> Any:
    """Refuse what pydantic would otherwise read as a Unix time (``date=1e9``, ``dueBefore=-2.5``)."""
    if isinstance(value, str):
        head = _ISO_DAY.match(value)
        if head is None or (day_only and len(value) != 10) or value[10:11] not in ("", "T", "t", " "):
            raise ValueError("expected an ISO 8601 date" + ("" if day_only else " or date-time"))
    return value


IsoDate = Annotated[date, BeforeValidator(lambda v: _iso_text(v, day_only=True))]
IsoDateTime = Annotated[datetime, BeforeValidator(lambda v: _iso_text(v, day_only=False))]

# Past the last page is an empty page, past this it is a 422 (SQLite's OFFSET is a signed 64-bit integer).
MAX_OFFSET = 1_000_000_000
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


class PageQuery(ApiModel):
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
