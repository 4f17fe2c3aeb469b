"""``/api/metrics/*``: what the consumer counted, for ADMIN (the input of the Kafka message budget)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from crm.contracts.roles import Role
from crm.platform.schemas import IsoDate
from crm.platform.security import Principal, require_roles
from crm.platform.web import UoW
from crm.services.analytics import reports
from crm.services.analytics.schemas import EventMetrics

router = APIRouter(prefix="/api/metrics", tags=["metrics"])
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


@router.get("/events", response_model=EventMetrics)
async def events(
    _caller: Admin,
    uow: UoW,
    day: Annotated[IsoDate | None, Query(alias="date", description="a UTC day; default today")] = None,
) -> EventMetrics:
    """Events consumed on the day (by their time, UTC) and in its month up to that day, by topic and type."""
    async with uow() as tx:
        return await reports.event_metrics(tx, day)
