"""``opportunity.events`` (approvals) → one row per approval: status, when requested, when decided."""

from __future__ import annotations

from datetime import datetime

from crm.contracts import parse_payload
from crm.contracts.payloads.opportunities import ApprovalRequested, ApprovalStatusChanged
from crm.platform.events import Envelope
from crm.platform.unit_of_work import Tx
from crm.services.analytics.models import ApprovalRow
from crm.services.analytics.projections.base import event_time, is_newer
from crm.services.analytics.projections.rows import get_or_new, loads

PENDING = "PENDING"
DECIDED = frozenset({"APPROVED", "REJECTED"})


@loads(ApprovalRow, "approvalId")
async def approval_requested(tx: Tx, event: Envelope) -> None:
    approval = parse_payload(event, ApprovalRequested)
    at = event_time(event)
    row = await get_or_new(tx, ApprovalRow, approval.approval_id)
    row.opportunity_id, row.requester_id = approval.opportunity_id, approval.requester_id
    row.requested_at = at
    if is_newer(row.state_at, at):
        row.status, row.decided_at, row.state_at = PENDING, None, at
    _decision_time(row)


@loads(ApprovalRow, "approvalId")
async def approval_status_changed(tx: Tx, event: Envelope) -> None:
    approval = parse_payload(event, ApprovalStatusChanged)
    at = event_time(event)
    row = await get_or_new(tx, ApprovalRow, approval.approval_id)
    row.opportunity_id, row.requester_id = approval.opportunity_id, approval.requester_id
    if not is_newer(row.state_at, at):
        return
    row.status, row.state_at = approval.status, at
    row.decided_at = at if approval.status in DECIDED else None
    _decision_time(row)


def _decision_time(row: ApprovalRow) -> None:
    """Requested → decided, once both ends are known (either event may arrive first)."""
    requested: datetime | None = row.requested_at
    decided: datetime | None = row.decided_at
    if requested is not None and decided is not None:
        row.decision_seconds = max(0.0, (decided - requested).total_seconds())
    else:
        row.decision_seconds = None
