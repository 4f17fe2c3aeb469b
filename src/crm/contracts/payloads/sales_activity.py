"""Payloads on ``sales-activity.events`` (produced by sales-activity-service)."""

from __future__ import annotations

from datetime import datetime

from crm.contracts.base import Payload


class MeetingCreated(Payload):
    meeting_id: str
    customer_id: str
    opportunity_id: str | None = None
    owner_id: str
    title: str
    starts_at: datetime


class MeetingUpdated(Payload):
    meeting_id: str
    customer_id: str
    opportunity_id: str | None = None
    owner_id: str
    status: str
    changed: list[str]


class TaskCreated(Payload):
    task_id: str
    title: str
    customer_id: str | None = None
    opportunity_id: str | None = None
    assignee_id: str | None = None
    status: str
    priority: str
    due_date: datetime | None = None
    kind: str = "manual"  # manual | first_contact | follow_up


class TaskUpdated(Payload):
    task_id: str
    customer_id: str | None = None
    opportunity_id: str | None = None
    assignee_id: str | None = None
    status: str
    priority: str
    changed: list[str]


class TaskCompleted(Payload):
    task_id: str
    customer_id: str | None = None
    opportunity_id: str | None = None
    assignee_id: str | None = None
    completed_by: str
