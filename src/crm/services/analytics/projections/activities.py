"""``sales-activity.events`` → one row per task (kind, priority, status, due date) and per meeting."""

from __future__ import annotations

from crm.contracts import parse_payload
from crm.contracts.payloads.sales_activity import (
    MeetingCreated,
    MeetingUpdated,
    TaskCompleted,
    TaskCreated,
    TaskUpdated,
)
from crm.platform.events import Envelope
from crm.platform.unit_of_work import Tx
from crm.services.analytics.models import MeetingRow, TaskRow
from crm.services.analytics.projections.base import as_utc, event_time, is_newer
from crm.services.analytics.projections.rows import get_or_new, loads

COMPLETED = "COMPLETED"


@loads(TaskRow, "taskId")
async def task_created(tx: Tx, event: Envelope) -> None:
    task = parse_payload(event, TaskCreated)
    at = event_time(event)
    row = await get_or_new(tx, TaskRow, task.task_id)
    row.created_on, row.kind = at.date(), task.kind
    if is_newer(row.state_at, at):
        row.status, row.priority, row.assignee_id = task.status, task.priority, task.assignee_id
        row.due_date, row.state_at = as_utc(task.due_date), at
    else:  # a change applied before the creation keeps its values; the creation fills the rest
        row.priority = row.priority or task.priority
        row.assignee_id = row.assignee_id or task.assignee_id
        row.due_date = row.due_date or as_utc(task.due_date)


@loads(TaskRow, "taskId")
async def task_updated(tx: Tx, event: Envelope) -> None:
    task = parse_payload(event, TaskUpdated)
    at = event_time(event)
    row = await get_or_new(tx, TaskRow, task.task_id)
    if not is_newer(row.state_at, at):
        return
    row.status, row.priority, row.assignee_id, row.state_at = task.status, task.priority, task.assignee_id, at
    if task.status == COMPLETED and row.completed_at is None:
        row.completed_at = at
    elif task.status != COMPLETED:
        row.completed_at = None
    # Tolerant read: producers that send the task's due date let "overdue" follow its changes.
    if "dueDate" in event.data and (event.data["dueDate"] is not None or "dueDate" in task.changed):
        row.due_date = as_utc(event.data["dueDate"])


@loads(TaskRow, "taskId")
async def task_completed(tx: Tx, event: Envelope) -> None:
    task = parse_payload(event, TaskCompleted)
    at = event_time(event)
    row = await get_or_new(tx, TaskRow, task.task_id)
    if is_newer(row.state_at, at):
        row.status, row.completed_at, row.state_at = COMPLETED, at, at
        row.assignee_id = task.assignee_id or row.assignee_id


@loads(MeetingRow, "meetingId")
async def meeting_created(tx: Tx, event: Envelope) -> None:
    meeting = parse_payload(event, MeetingCreated)
    at = event_time(event)
    row = await get_or_new(tx, MeetingRow, meeting.meeting_id)
    row.created_on = at.date()
    if is_newer(row.state_at, at):
        # Tolerant read: a meeting may be logged after the fact with another status.
        row.status = str(event.data.get("status") or "SCHEDULED")
        row.owner_id, row.starts_at, row.state_at = meeting.owner_id, as_utc(meeting.starts_at), at
    else:
        row.owner_id = row.owner_id or meeting.owner_id
        row.starts_at = row.starts_at or as_utc(meeting.starts_at)


@loads(MeetingRow, "meetingId")
async def meeting_updated(tx: Tx, event: Envelope) -> None:
    meeting = parse_payload(event, MeetingUpdated)
    at = event_time(event)
    row = await get_or_new(tx, MeetingRow, meeting.meeting_id)
    if is_newer(row.state_at, at):
        row.status, row.owner_id, row.state_at = meeting.status, meeting.owner_id, at
