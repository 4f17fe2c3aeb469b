"""customer-service use cases: the only code that changes customers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Select, func, or_, select

from crm.contracts import EventType, make_event
from crm.contracts.payloads.customers import (
    CustomerCreated,
    CustomerDeleted,
    CustomerRestored,
    CustomerUpdated,
)
from crm.contracts.payloads.users import UserCreated, UserDeleted
from crm.contracts.roles import SEES_ALL
from crm.platform.errors import Conflict, Forbidden, NotFound
from crm.platform.pagination import Sortable, declared_order, paginate
from crm.platform.security import Principal
from crm.platform.unit_of_work import Tx
from crm.services.customer.models import Customer
from crm.services.customer.schemas import CompanySize, CustomerCreate, CustomerUpdate

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
    # Not read back (no `refresh`): every column is known here (the timestamps are Python-side defaults the
    # flush sets, the columns left out are NULL), which saves a SELECT per customer created.
    tx.session.add(customer)
    await tx.session.flush()
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


async def get_customer(tx: Tx, customer_id: str, caller: Principal, *, deleted: bool = False) -> Customer:
    """A customer the caller may see (NotFound otherwise); ``deleted=True`` finds only soft-deleted ones."""
    query = _visible_to(select(Customer).where(Customer.id == customer_id), caller)
    condition = Customer.deleted_at.is_not(None) if deleted else Customer.deleted_at.is_(None)
    customer = await tx.session.scalar(query.where(condition))
    if customer is None:
        raise NotFound("Customer not found")
    return customer


async def update_customer(tx: Tx, customer_id: str, data: CustomerUpdate, caller: Principal) -> Customer:
    """Apply the fields present in ``data``; emits CUSTOMER_UPDATED with what changed (nothing: no event).
    Only roles that see all may hand a customer to another owner."""
    customer = await get_customer(tx, customer_id, caller)
    changes: dict[str, object] = {}
    for field in data.model_fields_set:
        value = getattr(data, field)
        if field == "name" and value is None:
            continue
        if field == "owner_id":
            if value is None:
                continue
            if value != customer.owner_id and caller.role not in SEES_ALL:
                raise Forbidden("Only a manager can reassign a customer", fields={"ownerId": "not allowed"})
        if field == "email" and value is not None:
            value = str(value).lower()
        if field == "size" and value is not None:
            value = value.value
        if field == "name":
            value = value.strip()
        if getattr(customer, field) != value:
            setattr(customer, field, value)
            changes[_camel(field)] = value
    if changes:
        await tx.session.flush()
        await _emit_updated(tx, customer, changes)
    return customer


async def delete_customer(tx: Tx, customer_id: str, caller: Principal) -> None:
    """Soft delete; emits CUSTOMER_DELETED (its open tasks, meetings and pending approvals get cancelled)."""
    customer = await get_customer(tx, customer_id, caller)
    customer.deleted_at = datetime.now(UTC)
    payload = CustomerDeleted(customer_id=customer.id, owner_id=customer.owner_id, deleted_by=caller.id)
    await tx.emit(make_event(EventType.CUSTOMER_DELETED, payload, subject=customer.id, source=SOURCE))


async def restore_customer(tx: Tx, customer_id: str, caller: Principal) -> Customer:
    """Undo a soft delete; emits CUSTOMER_RESTORED. NotFound if it is not deleted (or not visible)."""
    try:
        customer = await get_customer(tx, customer_id, caller, deleted=True)
    except NotFound:
        await get_customer(tx, customer_id, caller)  # 404 if it does not exist at all
        raise Conflict("Customer is not deleted") from None
    customer.deleted_at = None
    payload = CustomerRestored(customer_id=customer.id, owner_id=customer.owner_id, restored_by=caller.id)
    await tx.emit(make_event(EventType.CUSTOMER_RESTORED, payload, subject=customer.id, source=SOURCE))
    return customer


async def reassign_customers_of(tx: Tx, user: UserDeleted) -> int:
    """The deleted user's customers (deleted ones too) go to ``user.reassign_to``; one CUSTOMER_UPDATED each.
    Returns how many moved (0 on a redelivery: they are no longer the user's)."""
    if not user.reassign_to:
        return 0
    rows = (await tx.session.scalars(select(Customer).where(Customer.owner_id == user.user_id))).all()
    for customer in rows:
        customer.owner_id = user.reassign_to
    await tx.session.flush()
    for customer in rows:
        await _emit_updated(tx, customer, {"ownerId": user.reassign_to, "previousOwnerId": user.user_id})
    return len(rows)


async def _emit_updated(tx: Tx, customer: Customer, changes: dict[str, object]) -> None:
    payload = CustomerUpdated(customer_id=customer.id, owner_id=customer.owner_id, changes=changes)
    await tx.emit(make_event(EventType.CUSTOMER_UPDATED, payload, subject=customer.id, source=SOURCE))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


CUSTOMER_SORT = Sortable(
    columns={
        "name": func.lower(Customer.name),
        "createdAt": Customer.created_at,
        "updatedAt": Customer.updated_at,
        "industry": func.lower(Customer.industry),
        "size": declared_order(Customer.size, list(CompanySize)),
    },
    tiebreak=Customer.id,
    default=(Customer.created_at.desc(), Customer.id),
)


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
    deleted: bool = False,
    sort: str | None = None,
) -> tuple[Sequence[Customer], int]:
    """A page of the customers the caller may see, newest first (or by ``sort``, a CUSTOMER_SORT value), and
    the total matching; ``deleted=True`` lists the soft-deleted ones instead (the restore bin)."""
    condition = Customer.deleted_at.is_not(None) if deleted else Customer.deleted_at.is_(None)
    query = _visible_to(select(Customer).where(condition), caller)
    if q:
        needle = q.strip().lower()  # a substring, matched literally: `%` and `_` are no wildcards
        query = query.where(
            or_(
                func.lower(Customer.name).contains(needle, autoescape=True),
                func.lower(Customer.email).contains(needle, autoescape=True),
                Customer.phone.contains(needle, autoescape=True),
            )
        )
    if industry:
        query = query.where(Customer.industry == industry)
    if size:
        query = query.where(Customer.size == size)
    if owner_id:
        query = query.where(Customer.owner_id == owner_id)
    return await paginate(tx.session, query, CUSTOMER_SORT.order(sort), limit=limit, offset=offset)
