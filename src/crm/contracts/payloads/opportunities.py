"""Payloads on ``opportunity.events`` (produced by opportunity-service)."""

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


class ApprovalStatusChanged(Payload):
    approval_id: str
    opportunity_id: str
    customer_id: str
    requester_id: str
    status: str  # PENDING | APPROVED | REJECTED | RECALLED | CANCELLED
    previous_status: str
    decided_by: str | None = None
    comment: str | None = None
