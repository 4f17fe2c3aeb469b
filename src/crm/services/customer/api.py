"""customer-service HTTP routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from crm.contracts.roles import WRITERS
from crm.platform.pagination import SORT_DESCRIPTION
from crm.platform.responses import errors
from crm.platform.schemas import Limit, Offset, Page
from crm.platform.security import CurrentUser, Principal, require_roles
from crm.platform.web import UoW
from crm.services.customer import service
from crm.services.customer.schemas import (
    CompanySize,
    CustomerCreate,
    CustomerOut,
    CustomerSort,
    CustomerUpdate,
)

router = APIRouter(prefix="/api/customers", tags=["customers"])
Writer = Annotated[Principal, Depends(require_roles(*WRITERS))]  # COMPLIANCE reads, never writes


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CustomerOut)
async def create_customer(body: CustomerCreate, caller: Writer, uow: UoW) -> CustomerOut:
    """Create a customer. Publishes CUSTOMER_CREATED."""
    async with uow() as tx:
        customer = await service.create_customer(tx, body, caller)
    return CustomerOut.model_validate(customer)


@router.get("", response_model=Page[CustomerOut])
async def list_customers(
    caller: CurrentUser,
    uow: UoW,
    limit: Limit = 50,
    offset: Offset = 0,
    q: Annotated[str | None, Query(max_length=200, description="search name, email, phone")] = None,
    industry: Annotated[str | None, Query(max_length=100)] = None,
    size: CompanySize | None = None,
    owner_id: Annotated[str | None, Query(alias="ownerId", max_length=36)] = None,
    deleted: Annotated[bool, Query(description="list the soft-deleted customers instead")] = False,
    sort: Annotated[
        CustomerSort | None, Query(description=f"{SORT_DESCRIPTION}; newest first without")
    ] = None,
) -> Page[CustomerOut]:
    async with uow() as tx:
        rows, total = await service.list_customers(
            tx,
            caller,
            limit=limit,
            offset=offset,
            q=q,
            industry=industry,
            size=size.value if size else None,
            owner_id=owner_id,
            deleted=deleted,
            sort=sort,
        )
    return Page[CustomerOut](
        items=[CustomerOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/{customer_id}", response_model=CustomerOut)
async def get_customer(customer_id: str, caller: CurrentUser, uow: UoW) -> CustomerOut:
    async with uow() as tx:
        customer = await service.get_customer(tx, customer_id, caller)
    return CustomerOut.model_validate(customer)


@router.patch("/{customer_id}", response_model=CustomerOut)
async def update_customer(customer_id: str, body: CustomerUpdate, caller: Writer, uow: UoW) -> CustomerOut:
    """Change the given fields. Publishes CUSTOMER_UPDATED."""
    async with uow() as tx:
        customer = await service.update_customer(tx, customer_id, body, caller)
    return CustomerOut.model_validate(customer)


@router.put("/{customer_id}", response_model=CustomerOut)
async def replace_customer(customer_id: str, body: CustomerCreate, caller: Writer, uow: UoW) -> CustomerOut:
    """Replace every field (absent optional fields are cleared). Publishes CUSTOMER_UPDATED."""
    update = CustomerUpdate.model_validate(
        {**body.model_dump(exclude={"owner_id"}), **({"owner_id": body.owner_id} if body.owner_id else {})}
    )
    async with uow() as tx:
        customer = await service.update_customer(tx, customer_id, update, caller)
    return CustomerOut.model_validate(customer)


@router.delete("/{customer_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_customer(customer_id: str, caller: Writer, uow: UoW) -> Response:
    """Soft delete. Publishes CUSTOMER_DELETED: its open tasks, meetings, pending approvals get cancelled."""
    async with uow() as tx:
        await service.delete_customer(tx, customer_id, caller)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{customer_id}/restore", response_model=CustomerOut, responses=errors(409))
async def restore_customer(customer_id: str, caller: Writer, uow: UoW) -> CustomerOut:
    """Undo a soft delete. Publishes CUSTOMER_RESTORED (nothing is reopened automatically)."""
    async with uow() as tx:
        customer = await service.restore_customer(tx, customer_id, caller)
    return CustomerOut.model_validate(customer)
