"""opportunity-service use cases for approvals: PENDING → APPROVED / REJECTED (by an approver), RECALLED
(by the requester) or CANCELLED (by the sagas: the requester or the customer was deleted).

Every status change emits APPROVAL_STATUS_CHANGED on ``opportunity.events``; a decision also tells the
requester with APPROVAL_RESULT on ``notification.events``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.exc import IntegrityError

from crm.contracts import EventType, make_event
from crm.contracts.payloads.notifications import ApprovalResult
from crm.contracts.payloads.opportunities import ApprovalRequested, ApprovalStatusChanged
from crm.contracts.roles import SEES_ALL, Role
from crm.platform.errors import Conflict, Forbidden, NotFound
from crm.platform.pagination import Sortable, paginate
from crm.platform.security import Principal
from crm.platform.types import utcnow
from crm.platform.unit_of_work import Tx
from crm.services.opportunity.models import Approval, KnownCustomer, Opportunity
from crm.services.opportunity.schemas import ApprovalCreate, ApprovalStatus
from crm.services.opportunity.service import SOURCE, get_opportunity

PENDING = ApprovalStatus.PENDING.value
# The roles that may decide approvals (each those addressed to its role; ADMIN any).
APPROVERS = (Role.MANAGER.value, Role.ADMIN.value, Role.COMPLIANCE.value)


def _visible(query: Select[Approval], caller: Principal) -> Select[Approval]:
    if caller.role in SEES_ALL:
        return query
    return query.where(Approval.requester_id == caller.id)


async def request_approval(tx: Tx, data: ApprovalCreate, caller: Principal) -> Approval:
    """Ask for approval of a deal the caller owns (or any deal, for roles that see all): one PENDING
    approval per deal. Emits APPROVAL_REQUESTED."""
    try:
        deal = await get_opportunity(tx, data.opportunity_id, caller, lock=True)
    except NotFound:
        raise NotFound("Opportunity not found", fields={"opportunityId": "not found"}) from None
    if deal.owner_id != caller.id and caller.role not in SEES_ALL:
        raise Forbidden("Only the deal's owner may request its approval")
    # Locked so a concurrent CUSTOMER_DELETED either sees this approval (and cancels it) or wins first.
    customer = await tx.session.get(KnownCustomer, deal.customer_id, with_for_update=True)
    if customer is not None and customer.deleted:
        raise Conflict("The deal's customer is deleted", fields={"opportunityId": "customer deleted"})
    if await _pending_of(tx, deal.id) is not None:
        raise Conflict("The deal already has a pending approval", fields={"opportunityId": "already pending"})
    approval = Approval(
        id=str(uuid.uuid4()),
        opportunity_id=deal.id,
        customer_id=deal.customer_id,
        requester_id=caller.id,
        approver_role=data.approver_role.value,
        title=data.title,
        reason=data.reason,
        status=PENDING,
    )
    tx.session.add(approval)
    try:
        await tx.session.flush()
    except IntegrityError:  # a concurrent request won the unique "one pending per deal" index
        raise Conflict(
            "The deal already has a pending approval", fields={"opportunityId": "already pending"}
        ) from None
    await tx.session.refresh(approval)
    payload = ApprovalRequested(
        approval_id=approval.id,
        opportunity_id=approval.opportunity_id,
        customer_id=approval.customer_id,
        requester_id=approval.requester_id,
        approver_role=approval.approver_role,
        title=approval.title,
        owner_id=deal.owner_id,
        reason=approval.reason,
    )
    await tx.emit(make_event(EventType.APPROVAL_REQUESTED, payload, subject=approval.id, source=SOURCE))
    return approval


async def _pending_of(tx: Tx, opportunity_id: str) -> str | None:
    return await tx.session.scalar(
        select(Approval.id).where(Approval.opportunity_id == opportunity_id, Approval.status == PENDING)
    )


async def get_approval(tx: Tx, approval_id: str, caller: Principal, *, lock: bool = False) -> Approval:
    """The approval, if ``caller`` may see it: its requester, or roles that see all (404 otherwise)."""
    query = _visible(select(Approval).where(Approval.id == approval_id), caller)
    approval = await tx.session.scalar(query.with_for_update() if lock else query)
    if approval is None:
        raise NotFound("Approval not found")
    return approval


APPROVAL_SORT = Sortable(
    columns={"createdAt": Approval.created_at, "decidedAt": Approval.decided_at},
    tiebreak=Approval.id,
    default=(Approval.created_at.desc(), Approval.id),
)


async def list_approvals(
    tx: Tx,
    caller: Principal,
    *,
    limit: int,
    offset: int,
    status: str | None = None,
    opportunity_id: str | None = None,
    customer_id: str | None = None,
    sort: str | None = None,
) -> tuple[Sequence[Approval], int]:
    """The caller's own requests (all approvals for roles that see all), newest first (or by ``sort``, an
    APPROVAL_SORT value)."""
    query = _visible(select(Approval), caller)
    if status:
        query = query.where(Approval.status == status)
    if opportunity_id:
        query = query.where(Approval.opportunity_id == opportunity_id)
    if customer_id:
        query = query.where(Approval.customer_id == customer_id)
    order = APPROVAL_SORT.order(sort)
    return await paginate(tx.session, query, order, limit=limit, offset=offset)


async def pending_for(
    tx: Tx, caller: Principal, *, limit: int, offset: int, sort: str | None = None
) -> tuple[Sequence[Approval], int]:
    """The caller's inbox: PENDING approvals they may decide (addressed to their role; all for ADMIN),
    never their own requests. Oldest first (the longest waiting come first), or by ``sort``."""
    query = select(Approval).where(Approval.status == PENDING, Approval.requester_id != caller.id)
    if caller.role != Role.ADMIN:
        query = query.where(Approval.approver_role == caller.role)
    order = APPROVAL_SORT.order(sort or "createdAt")
    return await paginate(tx.session, query, order, limit=limit, offset=offset)


async def decide(
    tx: Tx, approval_id: str, caller: Principal, *, approve: bool, comment: str | None
) -> Approval:
    """APPROVED or REJECTED by an approver of the approval's role (ADMIN: any), never its requester,
    only while PENDING. Emits APPROVAL_STATUS_CHANGED and APPROVAL_RESULT (for the requester)."""
    if caller.role not in APPROVERS:
        raise Forbidden(f"Only {', '.join(APPROVERS)} may decide approvals")
    approval = await get_approval(tx, approval_id, caller, lock=True)
    if approval.requester_id == caller.id:
        raise Forbidden("You may not decide your own request")
    if caller.role != Role.ADMIN and caller.role != approval.approver_role:
        raise Forbidden(f"This approval is addressed to {approval.approver_role}")
    status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    await _change(tx, approval, status, decided_by=caller.id, comment=comment)
    result = ApprovalResult(
        approval_id=approval.id,
        opportunity_id=approval.opportunity_id,
        requester_id=approval.requester_id,
        status=approval.status,
        decided_by=approval.decided_by,
        comment=approval.comment,
    )
    await tx.emit(make_event(EventType.APPROVAL_RESULT, result, subject=approval.id, source=SOURCE))
    return approval


async def recall(tx: Tx, approval_id: str, caller: Principal) -> Approval:
    """RECALLED by its requester, only while PENDING. Emits APPROVAL_STATUS_CHANGED."""
    approval = await get_approval(tx, approval_id, caller, lock=True)
    if approval.requester_id != caller.id:
        raise Forbidden("Only the requester may recall an approval")
    await _change(tx, approval, ApprovalStatus.RECALLED, decided_by=caller.id, comment=None)
    return approval


async def cancel_pending(tx: Tx, where: ColumnElement[bool], *, caused_by: str, reason: str) -> int:
    """CANCEL every PENDING approval matching ``where`` (a saga step); one APPROVAL_STATUS_CHANGED each.
    Returns how many were cancelled."""
    rows = await tx.session.scalars(
        select(Approval)
        .where(Approval.status == PENDING, where)
        .order_by(Approval.created_at)
        .with_for_update()
    )
    approvals = rows.all()
    for approval in approvals:
        await _change(tx, approval, ApprovalStatus.CANCELLED, decided_by=caused_by, comment=reason)
    return len(approvals)


async def _change(
    tx: Tx, approval: Approval, status: ApprovalStatus, *, decided_by: str, comment: str | None
) -> None:
    if approval.status != PENDING:
        raise Conflict(f"The approval is already {approval.status}", fields={"status": approval.status})
    previous = approval.status
    approval.status = status.value
    approval.decided_by = decided_by
    approval.decided_at = utcnow()
    approval.comment = comment
    await tx.session.flush()
    await tx.session.refresh(approval)
    deal = await tx.session.get(Opportunity, approval.opportunity_id)
    payload = ApprovalStatusChanged(
        approval_id=approval.id,
        opportunity_id=approval.opportunity_id,
        customer_id=approval.customer_id,
        requester_id=approval.requester_id,
        status=approval.status,
        previous_status=previous,
        decided_by=approval.decided_by,
        comment=approval.comment,
        owner_id=deal.owner_id if deal is not None else None,
        approver_role=approval.approver_role,
        title=approval.title,
    )
    await tx.emit(make_event(EventType.APPROVAL_STATUS_CHANGED, payload, subject=approval.id, source=SOURCE))
