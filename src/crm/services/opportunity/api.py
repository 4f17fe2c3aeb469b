"""opportunity-service HTTP routes for deals (``/api/opportunities``); approvals: ``approvals_api.py``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from crm.contracts.roles import WRITERS
from crm.platform.pagination import SORT_DESCRIPTION
from crm.platform.responses import errors
from crm.platform.schemas import Limit, Offset, Page
from crm.platform.security import CurrentUser, Principal, require_roles
from crm.platform.web import UoW
from crm.services.opportunity import service
from crm.services.opportunity.schemas import (
    OpportunityCreate,
    OpportunityOut,
    OpportunitySort,
    OpportunityUpdate,
    Stage,
)

router = APIRouter(prefix="/api/opportunities", tags=["opportunities"])

# Everyone but COMPLIANCE, who reviews deals and decides approvals but does not sell.
DealEditor = Annotated[Principal, Depends(require_roles(*WRITERS))]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OpportunityOut)
async def create_opportunity(body: OpportunityCreate, caller: DealEditor, uow: UoW) -> OpportunityOut:
    """Create a deal on a known customer. Publishes OPPORTUNITY_CREATED."""
    async with uow() as tx:
        deal = await service.create_opportunity(tx, body, caller)
    return OpportunityOut.model_validate(deal)


@router.get("", response_model=Page[OpportunityOut])
async def list_opportunities(
    caller: CurrentUser,
    uow: UoW,
    limit: Limit = 50,
    offset: Offset = 0,
    q: Annotated[str | None, Query(max_length=200, description="search the name")] = None,
    customer_id: Annotated[str | None, Query(alias="customerId", max_length=36)] = None,
    owner_id: Annotated[str | None, Query(alias="ownerId", max_length=36)] = None,
    stage: Stage | None = None,
    sort: Annotated[
        OpportunitySort | None, Query(description=f"{SORT_DESCRIPTION}; newest first without")
    ] = None,
) -> Page[OpportunityOut]:
    async with uow() as tx:
        rows, total = await service.list_opportunities(
            tx,
            caller,
            limit=limit,
            offset=offset,
            q=q,
            customer_id=customer_id,
            owner_id=owner_id,
            stage=stage.value if stage else None,
            sort=sort,
        )
    return Page[OpportunityOut](
        items=[OpportunityOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/{opportunity_id}", response_model=OpportunityOut)
async def get_opportunity(opportunity_id: str, caller: CurrentUser, uow: UoW) -> OpportunityOut:
    async with uow() as tx:
        deal = await service.get_opportunity(tx, opportunity_id, caller)
    return OpportunityOut.model_validate(deal)


@router.patch("/{opportunity_id}", response_model=OpportunityOut, responses=errors(409))
async def update_opportunity(
    opportunity_id: str, body: OpportunityUpdate, caller: DealEditor, uow: UoW
) -> OpportunityOut:
    """Change a deal. A new stage publishes OPPORTUNITY_STAGE_CHANGED; WON and LOST are final (409)."""
    async with uow() as tx:
        deal = await service.update_opportunity(tx, opportunity_id, body, caller)
    return OpportunityOut.model_validate(deal)


@router.delete(
    "/{opportunity_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=errors(409),
)
async def delete_opportunity(opportunity_id: str, caller: DealEditor, uow: UoW) -> Response:
    """Soft-delete a deal; 409 while one of its approvals is PENDING."""
    async with uow() as tx:
        await service.delete_opportunity(tx, opportunity_id, caller)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
