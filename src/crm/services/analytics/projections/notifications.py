"""``notification.events`` → in-app notifications, at most one per source event (unique key and inbox)."""

from __future__ import annotations

import uuid
from typing import Any

from crm.contracts import parse_payload
from crm.contracts.payloads.notifications import ApprovalResult, TaskDueSoon
from crm.platform.db import dialect_insert
from crm.platform.events import Envelope
from crm.platform.unit_of_work import Tx
from crm.services.analytics.models import Notification
from crm.services.analytics.projections.base import event_time

# Notification ids are derived from their source event's id, so a rebuild gives each one back its id.
_NAMESPACE = uuid.UUID("4f0c8a8e-2b7d-4c51-9d0e-6a1f3b9c7e21")


def notification_id(source_event_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, source_event_id))


async def notify_task_due_soon(tx: Tx, event: Envelope) -> None:
    """Tell the assignee their task is due within 24 hours."""
    task = parse_payload(event, TaskDueSoon)
    await _notify(tx, event, task.assignee_id, f"Task due soon: {task.title}", "task", task.task_id)


async def notify_approval_result(tx: Tx, event: Envelope) -> None:
    """Tell the requester how their approval request was decided."""
    result = parse_payload(event, ApprovalResult)
    title = f"Your approval request was {result.status}"
    await _notify(tx, event, result.requester_id, title, "approval", result.approval_id)


async def _notify(
    tx: Tx, event: Envelope, user_id: str, title: str, subject_type: str, subject_id: str
) -> None:
    """Stage the notification; a transaction's notifications (a consumer's batch) are inserted in one
    statement just before it commits."""
    rows = tx.accumulate("analytics.notifications", list, _insert_notifications)
    rows.append(
        {
            "id": notification_id(event.id),
            "source_event_id": event.id,
            "user_id": user_id,
            "kind": event.type,
            "title": title[:300],
            "subject_type": subject_type,
            "subject_id": subject_id,
            "created_at": event_time(event),
        }
    )


async def _insert_notifications(tx: Tx, rows: list[dict[str, Any]]) -> None:
    insert = dialect_insert(tx.session)
    statement = insert(Notification.__table__).on_conflict_do_nothing(index_elements=["source_event_id"])
    await tx.session.execute(statement, rows)
