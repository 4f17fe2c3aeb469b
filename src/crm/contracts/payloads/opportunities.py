"""Payloads on ``opportunity.events`` (produced by opportunity-service).

Amounts are exact decimals, carried as JSON strings with two decimals (``"1500000.00"``). Fields added after
the first version have defaults, so consumers built against it keep working.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from crm.contracts.base import Payload


class OpportunityCreated(Payload):
    opportunity_id: str
    customer_id: str
    name: str
    amount: Decimal
    currency: str
    stage: str
    owner_id: str
    expected_close_date: date | None = None
    probability: int | None = None  # percent
    created_by: str | None = None


class OpportunityStageChanged(Payload):
    opportunity_id: str
    customer_id: str
    owner_id: str
    from_stage: str
    to_stage: str
    amount: Decimal
    currency: str


class ApprovalRequested(Payload):
    approval_id: str
    opportunity_id: str
    customer_id: str
    requester_id: str
    approver_role: str
    title: str
    owner_id: str | None = None  # the deal's owner
    reason: str | None = None


class ApprovalStatusChanged(Payload):
    approval_id: str
    opportunity_id: str
    customer_id: str
    requester_id: str
    status: str  # PENDING | APPROVED | REJECTED | RECALLED | CANCELLED
    previous_status: str
    decided_by: str | None = None  # who approved, rejected or recalled; for CANCELLED, who caused it
    comment: str | None = None
    owner_id: str | None = None  # the deal's owner (sales-activity's follow-up work goes to them)
    approver_role: str | None = None
    title: str | None = None
