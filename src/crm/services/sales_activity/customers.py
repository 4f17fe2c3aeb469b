"""The local projection of customer-service's customers (table ``customers``), fed by customer.events.

Activities may only name a customer this service has seen and that is not deleted; ``USER``/``SALES``
callers only their own customers, as customer-service shows them (anything else is "unknown", never
"someone else's", so nothing leaks).
"""

from __future__ import annotations

from crm.contracts.roles import SEES_ALL
from crm.platform.errors import Invalid
from crm.platform.security import Principal
from crm.platform.unit_of_work import Tx
from crm.services.sales_activity.models import CustomerRef

UNKNOWN = "unknown or deleted customer"


async def require_customer(tx: Tx, customer_id: str, caller: Principal) -> CustomerRef:
    """The customer ``customer_id`` if the caller may attach activities to it; 422 on ``customerId``."""
    customer = await tx.session.get(CustomerRef, customer_id)
    if customer is None or customer.deleted:
        raise Invalid("The customer does not exist", fields={"customerId": UNKNOWN})
    if caller.role not in SEES_ALL and customer.owner_id != caller.id:
        raise Invalid("The customer does not exist", fields={"customerId": UNKNOWN})
    return customer


async def upsert(
    tx: Tx, customer_id: str, *, owner_id: str | None = None, name: str | None = None
) -> CustomerRef:
    """Record what an event says of a customer; fields given as None are left as they are."""
    customer = await tx.session.get(CustomerRef, customer_id)
    if customer is None:
        customer = CustomerRef(id=customer_id, owner_id=owner_id, name=name, deleted=False)
        tx.session.add(customer)
    else:
        customer.owner_id = owner_id or customer.owner_id
        customer.name = name or customer.name
    await tx.session.flush()
    return customer


async def mark_deleted(tx: Tx, customer_id: str, deleted: bool, owner_id: str | None = None) -> None:
    customer = await upsert(tx, customer_id, owner_id=owner_id)
    customer.deleted = deleted
    await tx.session.flush()
