"""sales-activity-service use cases: the only code that changes state.

Task use cases live in ``tasks.py``, meeting use cases in ``meetings.py``, the customers projection in
``customers.py``; this module gathers them (routes and handlers import ``service`` only) and holds the
reactions to other services' events, which span tasks, meetings and the projection.
"""

from __future__ import annotations

from datetime import timedelta

from crm.contracts.payloads.customers import (
    CustomerCreated,
    CustomerDeleted,
    CustomerRestored,
    CustomerUpdated,
)
from crm.contracts.payloads.opportunities import ApprovalStatusChanged
from crm.contracts.payloads.users import UserDeleted
from crm.platform.types import utcnow
from crm.platform.unit_of_work import Tx
from crm.services.sales_activity import customers
from crm.services.sales_activity.meetings import (
    cancel_meeting,
    cancel_scheduled_meetings,
    create_meeting,
    get_meeting,
    list_meetings,
    update_meeting,
)
from crm.services.sales_activity.models import Task
from crm.services.sales_activity.schemas import TaskKind, TaskPriority
from crm.services.sales_activity.tasks import (
    cancel_open_tasks,
    cancel_task,
    complete_task,
    create_automatic_task,
    create_task,
    get_task,
    list_tasks,
    notify_due_soon,
    update_task,
)

__all__ = [
    "cancel_meeting",
    "cancel_task",
    "complete_task",
    "create_meeting",
    "create_task",
    "get_meeting",
    "get_task",
    "list_meetings",
    "list_tasks",
    "notify_due_soon",
    "on_approval_decided",
    "on_customer_created",
    "on_customer_deleted",
    "on_customer_restored",
    "on_customer_updated",
    "on_user_deleted",
    "update_meeting",
    "update_task",
]

FIRST_CONTACT_DUE = timedelta(days=2)
FOLLOW_UP_DUE = timedelta(days=1)
DECIDED = ("APPROVED", "REJECTED")


async def on_customer_created(tx: Tx, event: CustomerCreated) -> Task | None:
    """Know the customer, and give its owner the "initial contact" task: once per customer, whatever the
    deliveries. Returns None when the task already exists."""
    await customers.upsert(tx, event.customer_id, owner_id=event.owner_id, name=event.name)
    return await create_automatic_task(
        tx,
        origin_key=f"{TaskKind.FIRST_CONTACT.value}:{event.customer_id}",
        kind=TaskKind.FIRST_CONTACT,
        title=f"Initial contact: {event.name}",
        assignee_id=event.owner_id or event.created_by,
        customer_id=event.customer_id,
        priority=TaskPriority.HIGH.value,
        due_date=utcnow() + FIRST_CONTACT_DUE,
    )


async def on_customer_updated(tx: Tx, event: CustomerUpdated) -> None:
    name = event.changes.get("name")
    await customers.upsert(
        tx, event.customer_id, owner_id=event.owner_id, name=name if isinstance(name, str) else None
    )


async def on_customer_deleted(tx: Tx, event: CustomerDeleted) -> None:
    """The customer-deletion saga's step here: its open tasks and scheduled meetings are cancelled."""
    await customers.mark_deleted(tx, event.customer_id, True, owner_id=event.owner_id)
    await cancel_open_tasks(tx, customer_id=event.customer_id)
    await cancel_scheduled_meetings(tx, customer_id=event.customer_id)


async def on_customer_restored(tx: Tx, event: CustomerRestored) -> None:
    """The customer may have activities again; what was cancelled stays cancelled."""
    await customers.mark_deleted(tx, event.customer_id, False, owner_id=event.owner_id)


async def on_approval_decided(tx: Tx, event: ApprovalStatusChanged) -> Task | None:
    """A follow-up task for the requester of an approved or rejected deal, once per approval."""
    if event.status not in DECIDED:
        return None
    decided = event.status.lower()
    subject = event.title or f"opportunity {event.opportunity_id}"
    lines = [f"The approval request ({subject}) was {decided}."]
    if event.comment:
        lines.append(f"Comment: {event.comment}")
    return await create_automatic_task(
        tx,
        origin_key=f"{TaskKind.FOLLOW_UP.value}:{event.approval_id}",
        kind=TaskKind.FOLLOW_UP,
        title=f"Follow up: approval {decided}: {subject}",
        assignee_id=event.requester_id,
        description="\n".join(lines),
        customer_id=event.customer_id,
        opportunity_id=event.opportunity_id,
        priority=TaskPriority.MEDIUM.value,
        due_date=utcnow() + FOLLOW_UP_DUE,
    )


async def on_user_deleted(tx: Tx, event: UserDeleted) -> None:
    """The user-deletion saga's step here: the user's open tasks and future scheduled meetings are
    cancelled (their customers are reassigned by customer-service)."""
    await cancel_open_tasks(tx, assignee_id=event.user_id)
    await cancel_scheduled_meetings(tx, owner_id=event.user_id, starting_after=utcnow())
