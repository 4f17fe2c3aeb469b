"""Payloads on ``sales-activity.events`` (produced by sales-activity-service).

Consumers (analytics, opportunity) rely on ``taskId``/``meetingId``, ``customerId``, ``opportunityId``,
``assigneeId``/``ownerId``, ``status``, ``priority``, ``kind`` and ``startsAt``. Fields are only ever added,
with a default, so an older consumer keeps reading newer events.
"""

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
    ends_at: datetime | None = None
    status: str = "SCHEDULED"


class MeetingUpdated(Payload):
    meeting_id: str
    customer_id: str
    opportunity_id: str | None = None
    owner_id: str
    status: str  # SCHEDULED | COMPLETED | CANCELLED
    changed: list[str]  # camelCase names of the fields that changed, e.g. ["status"] for a cancel
    starts_at: datetime | None = None


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
    created_by: str | None = None


class TaskUpdated(Payload):
    task_id: str
    customer_id: str | None = None
    opportunity_id: str | None = None
    assignee_id: str | None = None
    status: str  # TODO | IN_PROGRESS | COMPLETED | CANCELLED
    priority: str
    changed: list[str]  # camelCase names of the fields that changed, e.g. ["status"] for a cancel
    due_date: datetime | None = None
    kind: str = "manual"


class TaskCompleted(Payload):
    task_id: str
    customer_id: str | None = None
    opportunity_id: str | None = None
    assignee_id: str | None = None
    completed_by: str
    completed_at: datetime | None = None
    due_date: datetime | None = None
    kind: str = "manual"
