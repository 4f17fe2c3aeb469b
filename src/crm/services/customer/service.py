"""customer-service use cases: the only code that changes customers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, func, or_, select

from crm.contracts import EventType, make_event
from crm.contracts.payloads.customers import CustomerCreated
from crm.contracts.payloads.users import UserCreated
from crm.contracts.roles import SEES_ALL
from crm.platform.errors import Forbidden, NotFound
from crm.platform.security import Principal
from crm.platform.unit_of_work import Tx
from crm.services.customer.models import Customer
from crm.services.customer.schemas import CustomerCreate

SOURCE = "customer-service"


def _visible_to(query: Select[Customer], caller: Principal) -> Select[Customer]:
    if caller.role in SEES_ALL:
        return query
    return query.where(Customer.owner_id == caller.id)


async def create_customer(tx: Tx, data: CustomerCreate, caller: Principal) -> Customer:
    """Create a customer owned by ``data.owner_id`` (only roles that see all may assign another owner)
    or by the caller, and emit CUSTOMER_CREATED."""
    owner_id = data.owner_id or caller.id
    if owner_id != caller.id and caller.role not in SEES_ALL:
        raise Forbidden("You may only create customers you own", fields={"ownerId": "must be yourself"})
    customer = Customer(
        id=str(uuid.uuid4()),
        name=data.name.strip(),
        email=str(data.email).lower() if data.email else None,
        phone=data.phone,
        industry=data.industry,
        size=data.size.value if data.size else None,
        owner_id=owner_id,
        created_by=caller.id,
    )
    return await _insert(tx, customer)


async def create_customer_for_user(tx: Tx, user: UserCreated) -> Customer | None:
    """The customer record of a newly registered user, created once per user whatever the deliveries.
    Returns None when it already exists."""
    existing = await tx.session.scalar(select(Customer).where(Customer.source_user_id == user.user_id))
    if existing is not None:
        return None
    customer = Customer(
        id=str(uuid.uuid4()),
        name=user.name,
        email=user.email,
        owner_id=user.user_id,
        created_by=user.user_id,
        source_user_id=user.user_id,
    )
    return await _insert(tx, customer)


async def _insert(tx: Tx, customer: Customer) -> Customer:
    tx.session.add(customer)
    await tx.session.flush()
    await tx.session.refresh(customer)
    payload = CustomerCreated(
        customer_id=customer.id,
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
        industry=customer.industry,
        size=customer.size,
        owner_id=customer.owner_id,
        created_by=customer.created_by,
        source_user_id=customer.source_user_id,
    )
    await tx.emit(make_event(EventType.CUSTOMER_CREATED, payload, subject=customer.id, source=SOURCE))
    return customer


async def get_customer(tx: Tx, customer_id: str, caller: Principal) -> Customer:
    query = _visible_to(select(Customer).where(Customer.id == customer_id), caller)
    customer = await tx.session.scalar(query.where(Customer.deleted_at.is_(None)))
    if customer is None:
        raise NotFound("Customer not found")
    return customer


async def list_customers(
    tx: Tx,
    caller: Principal,
    *,
    limit: int,
    offset: int,
    q: str | None = None,
    industry: str | None = None,
    size: str | None = None,
    owner_id: str | None = None,
) -> tuple[Sequence[Customer], int]:
    """A page of the customers the caller may see, newest first, and the total matching."""
    query = _visible_to(select(Customer).where(Customer.deleted_at.is_(None)), caller)
    if q:
        pattern = f"%{q.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(Customer.name).like(pattern),
                func.lower(Customer.email).like(pattern),
                Customer.phone.like(pattern),
            )
        )
    if industry:
        query = query.where(Customer.industry == industry)
    if size:
        query = query.where(Customer.size == size)
    if owner_id:
        query = query.where(Customer.owner_id == owner_id)
    total = await tx.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await tx.session.scalars(
        query.order_by(Customer.created_at.desc(), Customer.id).limit(limit).offset(offset)
    )
    return rows.all(), total
