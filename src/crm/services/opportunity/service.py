"""opportunity-service use cases for deals, the customers projection and activity tracking.

Approvals have their own module (``approvals_service.py``). Deals are soft-deleted; WON and LOST are final.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, case, func, or_, select, update

from crm.contracts import EventType, make_event
from crm.contracts.payloads.opportunities import OpportunityCreated, OpportunityStageChanged
from crm.contracts.roles import SEES_ALL
from crm.platform.db import dialect_insert
from crm.platform.errors import Conflict, Forbidden, Invalid, NotFound
from crm.platform.pagination import Sortable, declared_order, paginate
from crm.platform.security import Principal
from crm.platform.types import UtcDateTime, utcnow
from crm.platform.unit_of_work import Tx
from crm.services.opportunity.models import CENT, Approval, KnownCustomer, Opportunity
from crm.services.opportunity.schemas import (
    DEFAULT_PROBABILITY,
    FINAL_STAGES,
    ApprovalStatus,
    OpportunityCreate,
    OpportunityUpdate,
    Stage,
)

SOURCE = "opportunity-service"


def visible_deals(query: Select[Opportunity], caller: Principal) -> Select[Opportunity]:
    """``query`` narrowed to the live deals ``caller`` may see: their own, or all for SEES_ALL roles."""
    query = query.where(Opportunity.deleted_at.is_(None))
    if caller.role in SEES_ALL:
        return query
    return query.where(Opportunity.owner_id == caller.id)


async def get_opportunity(
    tx: Tx, opportunity_id: str, caller: Principal, *, lock: bool = False
) -> Opportunity:
    """The deal, if ``caller`` may see it (404 otherwise). ``lock`` holds its row until the end of the
    transaction (PostgreSQL), so concurrent changes of one deal are serialised."""
    query = visible_deals(select(Opportunity).where(Opportunity.id == opportunity_id), caller)
    deal = await tx.session.scalar(query.with_for_update() if lock else query)
    if deal is None:
        raise NotFound("Opportunity not found")
    return deal


async def create_opportunity(tx: Tx, data: OpportunityCreate, caller: Principal) -> Opportunity:
    """Create a deal on a known, live customer, owned by the caller (or by ``data.owner_id`` when a role
    that sees all assigns it), and emit OPPORTUNITY_CREATED."""
    owner_id = data.owner_id or caller.id
    if owner_id != caller.id and caller.role not in SEES_ALL:
        raise Forbidden("You may only create deals you own", fields={"ownerId": "must be yourself"})
    customer = await tx.session.get(KnownCustomer, data.customer_id)
    if customer is None or customer.deleted:
        raise Invalid("Unknown customer", fields={"customerId": "unknown or deleted customer"})
    now = utcnow()
    deal = Opportunity(
        id=str(uuid.uuid4()),
        customer_id=data.customer_id,
        name=data.name,
        amount=data.amount.quantize(CENT),
        currency=data.currency,
        stage=data.stage.value,
        probability=DEFAULT_PROBABILITY[data.stage] if data.probability is None else data.probability,
        expected_close_date=data.expected_close_date,
        owner_id=owner_id,
        created_by=caller.id,
        activity_count=0,
        closed_at=now if data.stage in FINAL_STAGES else None,
    )
    tx.session.add(deal)
    await tx.session.flush()
    await tx.session.refresh(deal)
    payload = OpportunityCreated(
        opportunity_id=deal.id,
        customer_id=deal.customer_id,
        name=deal.name,
        amount=deal.amount,
        currency=deal.currency,
        stage=deal.stage,
        owner_id=deal.owner_id,
        expected_close_date=deal.expected_close_date,
        probability=deal.probability,
        created_by=deal.created_by,
    )
    await tx.emit(make_event(EventType.OPPORTUNITY_CREATED, payload, subject=deal.id, source=SOURCE))
    return deal


async def update_opportunity(
    tx: Tx, opportunity_id: str, data: OpportunityUpdate, caller: Principal
) -> Opportunity:
    """Change the fields sent. A new stage emits OPPORTUNITY_STAGE_CHANGED; leaving WON or LOST is a
    conflict; only roles that see all may hand the deal to another owner."""
    deal = await get_opportunity(tx, opportunity_id, caller, lock=True)
    sent = data.model_fields_set
    if "owner_id" in sent and data.owner_id != deal.owner_id and caller.role not in SEES_ALL:
        raise Forbidden("You may not reassign deals", fields={"ownerId": "must be yourself"})
    from_stage = deal.stage
    if data.stage is not None and data.stage != deal.stage:
        if Stage(deal.stage) in FINAL_STAGES:
            raise Conflict(f"A {deal.stage} deal is final", fields={"stage": f"cannot leave {deal.stage}"})
        deal.stage = data.stage.value
        deal.closed_at = utcnow() if data.stage in FINAL_STAGES else None
        if data.probability is None:
            deal.probability = DEFAULT_PROBABILITY[data.stage]
    if data.name is not None:
        deal.name = data.name
    if data.amount is not None:
        deal.amount = data.amount.quantize(CENT)
    if data.currency is not None:
        deal.currency = data.currency
    if data.probability is not None:
        deal.probability = data.probability
    if "expected_close_date" in sent:
        deal.expected_close_date = data.expected_close_date
    if data.owner_id is not None:
        deal.owner_id = data.owner_id
    await tx.session.flush()
    await tx.session.refresh(deal)
    if deal.stage != from_stage:
        payload = OpportunityStageChanged(
            opportunity_id=deal.id,
            customer_id=deal.customer_id,
            owner_id=deal.owner_id,
            from_stage=from_stage,
            to_stage=deal.stage,
            amount=deal.amount,
            currency=deal.currency,
        )
        await tx.emit(
            make_event(EventType.OPPORTUNITY_STAGE_CHANGED, payload, subject=deal.id, source=SOURCE)
        )
    return deal


async def delete_opportunity(tx: Tx, opportunity_id: str, caller: Principal) -> None:
    """Soft-delete a deal; refused while an approval of it is PENDING."""
    deal = await get_opportunity(tx, opportunity_id, caller, lock=True)
    pending = await tx.session.scalar(
        select(Approval.id).where(
            Approval.opportunity_id == deal.id, Approval.status == ApprovalStatus.PENDING.value
        )
    )
    if pending is not None:
        raise Conflict("The deal has a pending approval; recall or decide it first")
    deal.deleted_at = utcnow()
    await tx.session.flush()


OPPORTUNITY_SORT = Sortable(
    columns={
        "amount": Opportunity.amount,  # the number, whatever the currency
        "stage": declared_order(Opportunity.stage, list(Stage)),  # the pipeline: LEAD → WON, LOST
        "expectedCloseDate": Opportunity.expected_close_date,
        "createdAt": Opportunity.created_at,
        "updatedAt": Opportunity.updated_at,
    },
    tiebreak=Opportunity.id,
    default=(Opportunity.created_at.desc(), Opportunity.id),
)


async def list_opportunities(
    tx: Tx,
    caller: Principal,
    *,
    limit: int,
    offset: int,
    q: str | None = None,
    customer_id: str | None = None,
    owner_id: str | None = None,
    stage: str | None = None,
    sort: str | None = None,
) -> tuple[Sequence[Opportunity], int]:
    """A page of the live deals the caller may see, newest first (or by ``sort``, an OPPORTUNITY_SORT
    value), and the total matching."""
    query = visible_deals(select(Opportunity), caller)
    if q and q.strip():
        query = query.where(func.lower(Opportunity.name).contains(q.strip().lower(), autoescape=True))
    if customer_id:
        query = query.where(Opportunity.customer_id == customer_id)
    if owner_id:
        query = query.where(Opportunity.owner_id == owner_id)
    if stage:
        query = query.where(Opportunity.stage == stage)
    return await paginate(tx.session, query, OPPORTUNITY_SORT.order(sort), limit=limit, offset=offset)


async def record_activity(tx: Tx, opportunity_id: str, at: datetime) -> bool:
    """Count one sales activity on a deal and move its ``lastActivityAt`` forward to ``at``: one atomic
    UPDATE in the caller's transaction (the handler's, with its inbox row). False for an unknown deal."""
    when = bindparam("at", at, type_=UtcDateTime)
    last = Opportunity.last_activity_at
    result = await tx.session.execute(
        update(Opportunity)
        .where(Opportunity.id == opportunity_id)
        .values(
            activity_count=Opportunity.activity_count + 1,
            last_activity_at=case((or_(last.is_(None), last < when), when), else_=last),
            updated_at=Opportunity.updated_at,  # activity is not an edit of the deal
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def remember_customer(
    tx: Tx, customer_id: str, *, owner_id: str | None = None, deleted: bool | None = None
) -> KnownCustomer:
    """Create or update this service's record of a customer (whatever order its events arrive in); fields
    given as None are left as they are."""
    # One statement (not a SELECT … FOR UPDATE, then an INSERT or UPDATE): one runs per customer event.
    await tx.session.flush()  # a change of this row still pending in the session goes first
    insert = dialect_insert(tx.session)(KnownCustomer)
    changes: dict[str, Any] = {"owner_id": func.coalesce(insert.excluded.owner_id, KnownCustomer.owner_id)}
    if deleted is not None:
        changes["deleted"] = insert.excluded.deleted
    changes["updated_at"] = insert.excluded.updated_at  # `onupdate` is not applied to an upsert's SET
    statement = insert.values(id=customer_id, owner_id=owner_id, deleted=bool(deleted))
    statement = statement.on_conflict_do_update(index_elements=["id"], set_=changes)
    options = {"populate_existing": True}  # the session's copy of the row, if any, takes the new values
    customer = await tx.session.scalar(statement.returning(KnownCustomer), execution_options=options)
    assert customer is not None
    return customer
