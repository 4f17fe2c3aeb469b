"""The local projection of customer-service's customers (table ``customers``), fed by customer.events.

Activities may only name a customer this service has seen and that is not deleted; ``USER``/``SALES``
callers only their own customers, as customer-service shows them (anything else is "unknown", never
"someone else's", so nothing leaks).
"""

from __future__ import annotations

from sqlalchemy import func

from crm.contracts.roles import SEES_ALL
from crm.platform.db import dialect_insert
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
    # One statement (not a SELECT, then an INSERT or UPDATE): one is run for every customer event consumed.
    await tx.session.flush()  # a change of this row still pending in the session goes first
    insert = dialect_insert(tx.session)(CustomerRef)
    values = {"owner_id": owner_id or None, "name": name or None}
    statement = insert.values(id=customer_id, deleted=False, **values).on_conflict_do_update(
        index_elements=["id"],
        set_={
            **{k: func.coalesce(insert.excluded[k], getattr(CustomerRef, k)) for k in values},
            "updated_at": insert.excluded.updated_at,  # `onupdate` is not applied to an upsert's SET
        },
    )
    options = {"populate_existing": True}  # the session's copy of the row, if any, takes the new values
    customer = await tx.session.scalar(statement.returning(CustomerRef), execution_options=options)
    assert customer is not None
    return customer


async def mark_deleted(tx: Tx, customer_id: str, deleted: bool, owner_id: str | None = None) -> None:
    customer = await upsert(tx, customer_id, owner_id=owner_id)
    customer.deleted = deleted
    await tx.session.flush()
