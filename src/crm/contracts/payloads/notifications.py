"""Payloads on ``notification.events`` (any producer; analytics stores them as in-app notifications)."""

from __future__ import annotations

from datetime import datetime

from crm.contracts.base import Payload


class TaskDueSoon(Payload):
    task_id: str
    assignee_id: str
    title: str
    due_date: datetime
    customer_id: str | None = None


class ApprovalResult(Payload):
    approval_id: str
    opportunity_id: str
    requester_id: str
    status: str
    decided_by: str | None = None
    comment: str | None = None
