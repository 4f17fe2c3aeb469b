"""customer-service HTTP routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from crm.platform.schemas import Page
from crm.platform.security import CurrentUser
from crm.platform.web import UoW
from crm.services.customer import service
from crm.services.customer.schemas import CompanySize, CustomerCreate, CustomerOut

router = APIRouter(prefix="/api/customers", tags=["customers"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CustomerOut)
async def create_customer(body: CustomerCreate, caller: CurrentUser, uow: UoW) -> CustomerOut:
    """Create a customer. Publishes CUSTOMER_CREATED."""
    async with uow() as tx:
        customer = await service.create_customer(tx, body, caller)
    return CustomerOut.model_validate(customer)


@router.get("", response_model=Page[CustomerOut])
async def list_customers(
    caller: CurrentUser,
    uow: UoW,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    q: Annotated[str | None, Query(max_length=200, description="search name, email, phone")] = None,
    industry: Annotated[str | None, Query(max_length=100)] = None,
    size: CompanySize | None = None,
    owner_id: Annotated[str | None, Query(alias="ownerId", max_length=36)] = None,
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
        )
    return Page[CustomerOut](
        items=[CustomerOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/{customer_id}", response_model=CustomerOut)
async def get_customer(customer_id: str, caller: CurrentUser, uow: UoW) -> CustomerOut:
    async with uow() as tx:
        customer = await service.get_customer(tx, customer_id, caller)
    return CustomerOut.model_validate(customer)
