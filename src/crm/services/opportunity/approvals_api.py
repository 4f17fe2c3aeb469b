"""opportunity-service HTTP routes for approvals (``/api/approvals``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, status

from crm.platform.pagination import SORT_DESCRIPTION
from crm.platform.responses import errors
from crm.platform.schemas import Limit, Offset, Page
from crm.platform.security import CurrentUser, Principal, require_roles
from crm.platform.web import UoW
from crm.services.opportunity import approvals_service
from crm.services.opportunity.approvals_service import APPROVERS
from crm.services.opportunity.schemas import (
    ApprovalCreate,
    ApprovalOut,
    ApprovalSort,
    ApprovalStatus,
    Decision,
)

router = APIRouter(prefix="/api/approvals", tags=["approvals"])

Approver = Annotated[Principal, Depends(require_roles(*APPROVERS))]
OptionalDecision = Annotated[Decision | None, Body()]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApprovalOut, responses=errors(404, 409))
async def request_approval(body: ApprovalCreate, caller: CurrentUser, uow: UoW) -> ApprovalOut:
    """Ask for approval of a deal (its owner, or MANAGER/ADMIN/COMPLIANCE); one PENDING per deal.
    Publishes APPROVAL_REQUESTED."""
    async with uow() as tx:
        approval = await approvals_service.request_approval(tx, body, caller)
    return ApprovalOut.model_validate(approval)


@router.get("", response_model=Page[ApprovalOut])
async def list_approvals(
    caller: CurrentUser,
    uow: UoW,
    limit: Limit = 50,
    offset: Offset = 0,
    status_: Annotated[ApprovalStatus | None, Query(alias="status")] = None,
    opportunity_id: Annotated[str | None, Query(alias="opportunityId", max_length=36)] = None,
    customer_id: Annotated[
        str | None, Query(alias="customerId", max_length=36, description="the approvals on its deals")
    ] = None,
    sort: Annotated[
        ApprovalSort | None, Query(description=f"{SORT_DESCRIPTION}; newest first without")
    ] = None,
) -> Page[ApprovalOut]:
    """The caller's own requests; MANAGER, ADMIN and COMPLIANCE see all."""
    async with uow() as tx:
        rows, total = await approvals_service.list_approvals(
            tx,
            caller,
            limit=limit,
            offset=offset,
            status=status_.value if status_ else None,
            opportunity_id=opportunity_id,
            customer_id=customer_id,
            sort=sort,
        )
    return Page[ApprovalOut](
        items=[ApprovalOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/pending", response_model=Page[ApprovalOut])
async def pending_approvals(
    caller: Approver,
    uow: UoW,
    limit: Limit = 50,
    offset: Offset = 0,
    sort: Annotated[
        ApprovalSort | None, Query(description=f"{SORT_DESCRIPTION}; oldest first without")
    ] = None,
) -> Page[ApprovalOut]:
    """The approver's inbox: PENDING approvals addressed to the caller's role (ADMIN: all), oldest first,
    never the caller's own requests."""
    async with uow() as tx:
        rows, total = await approvals_service.pending_for(tx, caller, limit=limit, offset=offset, sort=sort)
    return Page[ApprovalOut](
        items=[ApprovalOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/{approval_id}", response_model=ApprovalOut)
async def get_approval(approval_id: str, caller: CurrentUser, uow: UoW) -> ApprovalOut:
    async with uow() as tx:
        approval = await approvals_service.get_approval(tx, approval_id, caller)
    return ApprovalOut.model_validate(approval)


@router.post("/{approval_id}/approve", response_model=ApprovalOut, responses=errors(409))
async def approve(approval_id: str, caller: Approver, uow: UoW, body: OptionalDecision = None) -> ApprovalOut:
    """APPROVED. Publishes APPROVAL_STATUS_CHANGED and APPROVAL_RESULT (to the requester)."""
    async with uow() as tx:
        approval = await approvals_service.decide(
            tx, approval_id, caller, approve=True, comment=body.comment if body else None
        )
    return ApprovalOut.model_validate(approval)


@router.post("/{approval_id}/reject", response_model=ApprovalOut, responses=errors(409))
async def reject(approval_id: str, caller: Approver, uow: UoW, body: OptionalDecision = None) -> ApprovalOut:
    """REJECTED. Publishes APPROVAL_STATUS_CHANGED and APPROVAL_RESULT (to the requester)."""
    async with uow() as tx:
        approval = await approvals_service.decide(
            tx, approval_id, caller, approve=False, comment=body.comment if body else None
        )
    return ApprovalOut.model_validate(approval)


@router.post("/{approval_id}/recall", response_model=ApprovalOut, responses=errors(409))
async def recall(approval_id: str, caller: CurrentUser, uow: UoW) -> ApprovalOut:
    """RECALLED by its requester while PENDING. Publishes APPROVAL_STATUS_CHANGED."""
    async with uow() as tx:
        approval = await approvals_service.recall(tx, approval_id, caller)
    return ApprovalOut.model_validate(approval)
