"""Task use cases: the only code that changes tasks (re-exported by ``service``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from pydantic.alias_generators import to_camel
from sqlalchemy import Select, case, func, or_, select

from crm.contracts import EventType, make_event
from crm.contracts.payloads.notifications import TaskDueSoon
from crm.contracts.payloads.sales_activity import TaskCompleted, TaskCreated, TaskUpdated
from crm.contracts.roles import SEES_ALL
from crm.platform.db import dialect_insert
from crm.platform.errors import Conflict, Forbidden, Invalid, NotFound
from crm.platform.events import Envelope
from crm.platform.pagination import Sortable, declared_order, paginate
from crm.platform.security import Principal
from crm.platform.types import utcnow
from crm.platform.unit_of_work import Tx
from crm.services.sales_activity import SOURCE
from crm.services.sales_activity.customers import require_customer
from crm.services.sales_activity.models import Task
from crm.services.sales_activity.schemas import (
    OPEN_TASK_STATUSES,
    TaskCreate,
    TaskKind,
    TaskPriority,
    TaskStatus,
    TaskUpdate,
)

COMPLETED, CANCELLED = TaskStatus.COMPLETED.value, TaskStatus.CANCELLED.value
_PRIORITY_RANK = case({"URGENT": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3}, value=Task.priority, else_=4)
TASK_SORT = Sortable(
    columns={
        "dueDate": Task.due_date,
        "priority": declared_order(Task.priority, list(TaskPriority)),  # LOW → URGENT
        "status": declared_order(Task.status, list(TaskStatus)),  # TODO → CANCELLED
        "createdAt": Task.created_at,
        "updatedAt": Task.updated_at,
    },
    tiebreak=Task.id,
    default=(Task.due_date.is_(None), Task.due_date, _PRIORITY_RANK, Task.created_at, Task.id),
)
_UPDATABLE = ("title", "description", "priority", "due_date", "assignee_id")


def _visible_to(query: Select[Any], caller: Principal) -> Select[Any]:
    if caller.role in SEES_ALL:
        return query
    return query.where(or_(Task.assignee_id == caller.id, Task.created_by == caller.id))


def _may_assign(caller: Principal, assignee_id: str) -> None:
    if assignee_id != caller.id and caller.role not in SEES_ALL:
        raise Forbidden("You may only assign tasks to yourself", fields={"assigneeId": "must be yourself"})


async def get_task(tx: Tx, task_id: str, caller: Principal) -> Task:
    task = await tx.session.scalar(_visible_to(select(Task).where(Task.id == task_id), caller))
    if task is None:
        raise NotFound("Task not found")
    return task


async def list_tasks(
    tx: Tx,
    caller: Principal,
    *,
    limit: int,
    offset: int,
    q: str | None = None,
    status: str | None = None,
    priority: str | None = None,
    customer_id: str | None = None,
    opportunity_id: str | None = None,
    assignee_id: str | None = None,
    due_before: datetime | None = None,
    overdue: bool = False,
    sort: str | None = None,
) -> tuple[Sequence[Task], int]:
    """A page of the tasks the caller may see, soonest due first (undated last), then most urgent; or by
    ``sort`` (a TASK_SORT value)."""
    query = _visible_to(select(Task), caller)
    if q:
        needle = q.strip().lower()
        query = query.where(
            or_(
                func.lower(Task.title).contains(needle, autoescape=True),
                func.lower(Task.description).contains(needle, autoescape=True),
            )
        )
    for column, value in (
        (Task.status, status),
        (Task.priority, priority),
        (Task.customer_id, customer_id),
        (Task.opportunity_id, opportunity_id),
        (Task.assignee_id, assignee_id),
    ):
        if value:
            query = query.where(column == value)
    if due_before is not None:
        query = query.where(Task.due_date <= due_before)
    if overdue:
        query = query.where(Task.due_date < utcnow(), Task.status.in_(OPEN_TASK_STATUSES))
    return await paginate(tx.session, query, TASK_SORT.order(sort), limit=limit, offset=offset)


async def create_task(tx: Tx, data: TaskCreate, caller: Principal) -> Task:
    """A task assigned to ``data.assignee_id`` (only roles that see all may assign another) or the caller."""
    assignee_id = data.assignee_id or caller.id
    _may_assign(caller, assignee_id)
    if data.status.value not in OPEN_TASK_STATUSES:
        raise Invalid("A new task is open", fields={"status": "must be TODO or IN_PROGRESS"})
    if data.customer_id:
        await require_customer(tx, data.customer_id, caller)
    task = Task(
        id=str(uuid.uuid4()),
        title=data.title,
        description=data.description,
        customer_id=data.customer_id,
        opportunity_id=data.opportunity_id,
        assignee_id=assignee_id,
        created_by=caller.id,
        status=data.status.value,
        priority=data.priority.value,
        due_date=data.due_date,
        kind=TaskKind.MANUAL.value,
    )
    tx.session.add(task)
    await tx.session.flush()
    await tx.session.refresh(task)
    await tx.emit(_created(task))
    return task


async def create_automatic_task(
    tx: Tx, *, origin_key: str, kind: TaskKind, title: str, assignee_id: str | None, **fields: Any
) -> Task | None:
    """A task raised by an event, once per ``origin_key`` whatever the deliveries and instances (the
    insert is skipped on the unique key, atomically). Returns None when it already exists."""
    values = {
        "id": str(uuid.uuid4()),
        "origin_key": origin_key,
        "kind": kind.value,
        "title": title[:200],
        "assignee_id": assignee_id,
        "status": TaskStatus.TODO.value,
        **fields,
    }
    statement = dialect_insert(tx.session)(Task).values(**values)
    statement = statement.on_conflict_do_nothing(index_elements=["origin_key"])
    # The new row comes back from the INSERT itself (no second SELECT); nothing when it already existed.
    task = await tx.session.scalar(statement.returning(Task))
    if task is None:
        return None
    await tx.emit(_created(task))
    return task


async def update_task(tx: Tx, task_id: str, data: TaskUpdate, caller: Principal) -> Task:
    """Change the fields sent. Status COMPLETED completes the task (as ``complete_task``); another status
    may also reopen a completed or cancelled one. A new due date or assignee re-arms the due-soon notice."""
    task = await get_task(tx, task_id, caller)
    sent = data.model_fields_set
    if "assignee_id" in sent and data.assignee_id != task.assignee_id:
        _may_assign(caller, data.assignee_id or "")
    changed: list[str] = []
    for name in _UPDATABLE:
        value = getattr(data, name)
        value = value.value if isinstance(value, Enum) else value
        if name in sent and value != getattr(task, name):
            setattr(task, name, value)
            changed.append(to_camel(name))
    if {"dueDate", "assigneeId"} & set(changed):
        task.due_soon_notified_at = None  # the new date (or the new assignee) is announced again
    new_status = data.status.value if data.status is not None else task.status
    completing = new_status == COMPLETED != task.status
    if completing:
        _complete(task, caller)
    elif new_status != task.status:
        task.status = new_status
        task.completed_at = task.completed_by = None
        changed.append("status")
    await tx.session.flush()
    if changed:
        await tx.emit(_updated(task, changed))
    if completing:
        await tx.emit(_completed(task))
    return task


async def complete_task(tx: Tx, task_id: str, caller: Principal) -> Task:
    task = await get_task(tx, task_id, caller)
    _complete(task, caller)
    await tx.session.flush()
    await tx.emit(_completed(task))
    return task


async def cancel_task(tx: Tx, task_id: str, caller: Principal) -> Task:
    """Cancel (the API's DELETE): idempotent; a completed task stays completed (409)."""
    task = await get_task(tx, task_id, caller)
    if task.status == COMPLETED:
        raise Conflict("A completed task cannot be cancelled", fields={"status": "COMPLETED"})
    if task.status != CANCELLED:
        await _cancel(tx, task)
    return task


async def cancel_open_tasks(tx: Tx, *, assignee_id: str | None = None, customer_id: str | None = None) -> int:
    """Cancel the open tasks of an assignee or a customer (the deletion sagas); one TASK_UPDATED each."""
    query = select(Task).where(Task.status.in_(OPEN_TASK_STATUSES))
    if assignee_id is not None:
        query = query.where(Task.assignee_id == assignee_id)
    if customer_id is not None:
        query = query.where(Task.customer_id == customer_id)
    tasks = (await tx.session.scalars(query.order_by(Task.created_at, Task.id))).all()
    for task in tasks:
        await _cancel(tx, task)
    return len(tasks)


async def notify_due_soon(
    tx: Tx, *, now: datetime | None = None, window: timedelta = timedelta(hours=24), batch: int = 500
) -> int:
    """Publish TASK_DUE_SOON for up to ``batch`` open, assigned tasks due within ``window`` and not yet
    notified; returns how many. On PostgreSQL the rows are claimed with FOR UPDATE SKIP LOCKED, so
    instances running the check at once never notify a task twice."""
    now = now or utcnow()
    query = (
        select(Task)
        .where(
            Task.status.in_(OPEN_TASK_STATUSES),
            Task.assignee_id.is_not(None),
            Task.due_date > now,
            Task.due_date <= now + window,
            Task.due_soon_notified_at.is_(None),
        )
        .order_by(Task.due_date, Task.id)
        .limit(batch)
    )
    if tx.session.bind is not None and tx.session.bind.dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    tasks = (await tx.session.scalars(query)).all()
    for task in tasks:
        assert task.assignee_id is not None and task.due_date is not None
        task.due_soon_notified_at = now
        payload = TaskDueSoon(
            task_id=task.id,
            assignee_id=task.assignee_id,
            title=task.title,
            due_date=task.due_date,
            customer_id=task.customer_id,
        )
        await tx.emit(make_event(EventType.TASK_DUE_SOON, payload, subject=task.id, source=SOURCE))
    await tx.session.flush()
    return len(tasks)


def _complete(task: Task, caller: Principal) -> None:
    if task.status in (COMPLETED, CANCELLED):
        raise Conflict(f"The task is already {task.status.lower()}", fields={"status": task.status})
    task.status = COMPLETED
    task.completed_at = utcnow()
    task.completed_by = caller.id


async def _cancel(tx: Tx, task: Task) -> None:
    task.status = CANCELLED
    await tx.session.flush()
    await tx.emit(_updated(task, ["status"]))


def _created(task: Task) -> Envelope:
    payload = TaskCreated(
        task_id=task.id,
        title=task.title,
        customer_id=task.customer_id,
        opportunity_id=task.opportunity_id,
        assignee_id=task.assignee_id,
        status=task.status,
        priority=task.priority,
        due_date=task.due_date,
        kind=task.kind,
        created_by=task.created_by,
    )
    return make_event(EventType.TASK_CREATED, payload, subject=task.id, source=SOURCE)


def _updated(task: Task, changed: list[str]) -> Envelope:
    payload = TaskUpdated(
        task_id=task.id,
        customer_id=task.customer_id,
        opportunity_id=task.opportunity_id,
        assignee_id=task.assignee_id,
        status=task.status,
        priority=task.priority,
        changed=changed,
        due_date=task.due_date,
        kind=task.kind,
    )
    return make_event(EventType.TASK_UPDATED, payload, subject=task.id, source=SOURCE)


def _completed(task: Task) -> Envelope:
    payload = TaskCompleted(
        task_id=task.id,
        customer_id=task.customer_id,
        opportunity_id=task.opportunity_id,
        assignee_id=task.assignee_id,
        completed_by=task.completed_by or "",
        completed_at=task.completed_at,
        due_date=task.due_date,
        kind=task.kind,
    )
    return make_event(EventType.TASK_COMPLETED, payload, subject=task.id, source=SOURCE)
