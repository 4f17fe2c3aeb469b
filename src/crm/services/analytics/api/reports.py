"""``/api/reports/*``: figures over the read models, for MANAGER, ADMIN and COMPLIANCE (403 for others)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from crm.contracts.roles import Role
from crm.platform.errors import Invalid
from crm.platform.schemas import IsoDate
from crm.platform.security import Principal, require_roles
from crm.platform.web import UoW
from crm.services.analytics import reports
from crm.services.analytics.schemas import (
    ApprovalReport,
    CustomerReport,
    MeetingReport,
    SalesSummary,
    TaskReport,
    UserReport,
)

router = APIRouter(prefix="/api/reports", tags=["reports"])
ReportReader = Annotated[Principal, Depends(require_roles(Role.MANAGER, Role.ADMIN, Role.COMPLIANCE))]


def period(
    start: Annotated[IsoDate | None, Query(alias="from", description="first day (UTC), inclusive")] = None,
    end: Annotated[IsoDate | None, Query(alias="to", description="last day (UTC), inclusive")] = None,
) -> reports.Period:
    """The report's period from ``from``/``to``; absent: all time. ``from`` after ``to`` is a 422."""
    if start is not None and end is not None and start > end:
        raise Invalid("The period ends before it starts", fields={"from": "must not be after `to`"})
    return reports.Period(start, end)


InPeriod = Annotated[reports.Period, Depends(period)]


@router.get("/sales-summary", response_model=SalesSummary)
async def sales_summary(_caller: ReportReader, uow: UoW, in_period: InPeriod) -> SalesSummary:
    """Pipeline value by stage and currency, deals won and lost, win rate, value won. With ``from``/``to``:
    the deals won and lost are those closed in the period; the open pipeline stays as it is now."""
    async with uow() as tx:
        return await reports.sales_summary(tx, in_period)


@router.get("/customers", response_model=CustomerReport)
async def customers(_caller: ReportReader, uow: UoW, in_period: InPeriod) -> CustomerReport:
    """Customers by industry and size, deleted and restored, created per day over the last 30 days. With
    ``from``/``to``: the customers created in the period, and the period's days (its last 366 at most)."""
    async with uow() as tx:
        return await reports.customer_report(tx, in_period)


@router.get("/approvals", response_model=ApprovalReport)
async def approvals(_caller: ReportReader, uow: UoW, in_period: InPeriod) -> ApprovalReport:
    """Approvals by status and the average time from request to decision, in hours. With ``from``/``to``:
    the approvals requested in the period."""
    async with uow() as tx:
        return await reports.approval_report(tx, in_period)


@router.get("/tasks", response_model=TaskReport)
async def tasks(_caller: ReportReader, uow: UoW, in_period: InPeriod) -> TaskReport:
    """Tasks created, completed, cancelled, open and overdue; completion rate; by priority and by kind. With
    ``from``/``to``: the tasks created in the period."""
    async with uow() as tx:
        return await reports.task_report(tx, in_period)


@router.get("/meetings", response_model=MeetingReport)
async def meetings(_caller: ReportReader, uow: UoW) -> MeetingReport:
    """Meetings created, still scheduled, completed and cancelled."""
    async with uow() as tx:
        return await reports.meeting_report(tx)


@router.get("/users", response_model=UserReport)
async def users(_caller: ReportReader, uow: UoW) -> UserReport:
    """Users by role, and how many were deleted."""
    async with uow() as tx:
        return await reports.user_report(tx)
