"""``/api/reports/*``: figures over the read models, for MANAGER, ADMIN and COMPLIANCE (403 for others)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from crm.contracts.roles import Role
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


@router.get("/sales-summary", response_model=SalesSummary)
async def sales_summary(_caller: ReportReader, uow: UoW) -> SalesSummary:
    """Pipeline value by stage and currency, deals won and lost, win rate, value won."""
    async with uow() as tx:
        return await reports.sales_summary(tx)


@router.get("/customers", response_model=CustomerReport)
async def customers(_caller: ReportReader, uow: UoW) -> CustomerReport:
    """Customers by industry and size, deleted and restored, created per day over the last 30 days."""
    async with uow() as tx:
        return await reports.customer_report(tx)


@router.get("/approvals", response_model=ApprovalReport)
async def approvals(_caller: ReportReader, uow: UoW) -> ApprovalReport:
    """Approvals by status and the average time from request to decision, in hours."""
    async with uow() as tx:
        return await reports.approval_report(tx)


@router.get("/tasks", response_model=TaskReport)
async def tasks(_caller: ReportReader, uow: UoW) -> TaskReport:
    """Tasks created, completed, cancelled, open and overdue; completion rate; by priority and by kind."""
    async with uow() as tx:
        return await reports.task_report(tx)


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
