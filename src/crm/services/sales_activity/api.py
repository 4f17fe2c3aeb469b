"""sales-activity-service HTTP routes: ``/api/meetings`` and ``/api/tasks``.

Every role reads (``USER``/``SALES`` their own meetings and the tasks assigned to or created by them);
``COMPLIANCE`` only reads (403 on writes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from crm.contracts.roles import WRITERS
from crm.platform.pagination import SORT_DESCRIPTION
from crm.platform.responses import errors
from crm.platform.schemas import IsoDateTime, Limit, Offset, Page
from crm.platform.security import CurrentUser, Principal, require_roles
from crm.platform.web import UoW
from crm.services.sales_activity import service
from crm.services.sales_activity.schemas import (
    MeetingCreate,
    MeetingOut,
    MeetingSort,
    MeetingStatus,
    MeetingUpdate,
    TaskCreate,
    TaskOut,
    TaskPriority,
    TaskSort,
    TaskStatus,
    TaskUpdate,
    as_utc,
)

Writer = Annotated[Principal, Depends(require_roles(*WRITERS))]
IdFilter = Annotated[str | None, Query(max_length=36)]

meetings_router = APIRouter(prefix="/api/meetings", tags=["meetings"])
tasks_router = APIRouter(prefix="/api/tasks", tags=["tasks"])


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


@meetings_router.post("", status_code=status.HTTP_201_CREATED, response_model=MeetingOut)
async def create_meeting(body: MeetingCreate, caller: Writer, uow: UoW) -> MeetingOut:
    """Schedule a meeting with a customer, owned by the caller. Publishes MEETING_CREATED."""
    async with uow() as tx:
        meeting = await service.create_meeting(tx, body, caller)
    return MeetingOut.model_validate(meeting)


@meetings_router.get("", response_model=Page[MeetingOut])
async def list_meetings(
    caller: CurrentUser,
    uow: UoW,
    limit: Limit = 50,
    offset: Offset = 0,
    q: Annotated[str | None, Query(max_length=200, description="search title and summary")] = None,
    customer_id: Annotated[str | None, Query(alias="customerId", max_length=36)] = None,
    owner_id: Annotated[str | None, Query(alias="ownerId", max_length=36)] = None,
    starts_from: Annotated[IsoDateTime | None, Query(alias="from", description="startsAt ≥ this")] = None,
    starts_to: Annotated[IsoDateTime | None, Query(alias="to", description="startsAt ≤ this")] = None,
    meeting_status: Annotated[MeetingStatus | None, Query(alias="status")] = None,
    sort: Annotated[
        MeetingSort | None, Query(description=f"{SORT_DESCRIPTION}; in start order without")
    ] = None,
) -> Page[MeetingOut]:
    async with uow() as tx:
        rows, total = await service.list_meetings(
            tx,
            caller,
            limit=limit,
            offset=offset,
            q=q,
            customer_id=customer_id,
            owner_id=owner_id,
            starts_from=_utc(starts_from),
            starts_to=_utc(starts_to),
            status=meeting_status.value if meeting_status else None,
            sort=sort,
        )
    return Page[MeetingOut](
        items=[MeetingOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@meetings_router.get("/{meeting_id}", response_model=MeetingOut)
async def get_meeting(meeting_id: str, caller: CurrentUser, uow: UoW) -> MeetingOut:
    async with uow() as tx:
        meeting = await service.get_meeting(tx, meeting_id, caller)
    return MeetingOut.model_validate(meeting)


@meetings_router.patch("/{meeting_id}", response_model=MeetingOut, responses=errors(409))
async def update_meeting(meeting_id: str, body: MeetingUpdate, caller: Writer, uow: UoW) -> MeetingOut:
    """Change any of the fields sent, status included. Publishes MEETING_UPDATED with ``changed``."""
    async with uow() as tx:
        meeting = await service.update_meeting(tx, meeting_id, body, caller)
    return MeetingOut.model_validate(meeting)


@meetings_router.delete("/{meeting_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(409))
async def cancel_meeting(meeting_id: str, caller: Writer, uow: UoW) -> Response:
    """Cancel the meeting (kept, status CANCELLED). Publishes MEETING_UPDATED."""
    async with uow() as tx:
        await service.cancel_meeting(tx, meeting_id, caller)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@tasks_router.post("", status_code=status.HTTP_201_CREATED, response_model=TaskOut)
async def create_task(body: TaskCreate, caller: Writer, uow: UoW) -> TaskOut:
    """Create a task, assigned to the caller unless a MANAGER/ADMIN names ``assigneeId``.
    Publishes TASK_CREATED."""
    async with uow() as tx:
        task = await service.create_task(tx, body, caller)
    return TaskOut.model_validate(task)


@tasks_router.get("", response_model=Page[TaskOut])
async def list_tasks(
    caller: CurrentUser,
    uow: UoW,
    limit: Limit = 50,
    offset: Offset = 0,
    q: Annotated[str | None, Query(max_length=200, description="search title and description")] = None,
    task_status: Annotated[TaskStatus | None, Query(alias="status")] = None,
    priority: TaskPriority | None = None,
    customer_id: Annotated[str | None, Query(alias="customerId", max_length=36)] = None,
    opportunity_id: Annotated[str | None, Query(alias="opportunityId", max_length=36)] = None,
    assignee_id: Annotated[str | None, Query(alias="assigneeId", max_length=36)] = None,
    due_before: Annotated[IsoDateTime | None, Query(alias="dueBefore", description="dueDate ≤ this")] = None,
    overdue: Annotated[bool, Query(description="open and past due")] = False,
    sort: Annotated[TaskSort | None, Query(description=SORT_DESCRIPTION)] = None,
) -> Page[TaskOut]:
    """Tasks by due date (undated last), then priority (URGENT first), unless a sort is asked."""
    async with uow() as tx:
        rows, total = await service.list_tasks(
            tx,
            caller,
            limit=limit,
            offset=offset,
            q=q,
            status=task_status.value if task_status else None,
            priority=priority.value if priority else None,
            customer_id=customer_id,
            opportunity_id=opportunity_id,
            assignee_id=assignee_id,
            due_before=_utc(due_before),
            overdue=overdue,
            sort=sort,
        )
    return Page[TaskOut](
        items=[TaskOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@tasks_router.get("/{task_id}", response_model=TaskOut)
async def get_task(task_id: str, caller: CurrentUser, uow: UoW) -> TaskOut:
    async with uow() as tx:
        task = await service.get_task(tx, task_id, caller)
    return TaskOut.model_validate(task)


@tasks_router.patch("/{task_id}", response_model=TaskOut, responses=errors(409))
async def update_task(task_id: str, body: TaskUpdate, caller: Writer, uow: UoW) -> TaskOut:
    """Change the fields sent. Publishes TASK_UPDATED with ``changed``; status COMPLETED completes the
    task (TASK_COMPLETED, 409 if cancelled)."""
    async with uow() as tx:
        task = await service.update_task(tx, task_id, body, caller)
    return TaskOut.model_validate(task)


@tasks_router.post("/{task_id}/complete", response_model=TaskOut, responses=errors(409))
async def complete_task(task_id: str, caller: Writer, uow: UoW) -> TaskOut:
    """Complete the task. Publishes TASK_COMPLETED; 409 if it is already completed or cancelled."""
    async with uow() as tx:
        task = await service.complete_task(tx, task_id, caller)
    return TaskOut.model_validate(task)


@tasks_router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(409))
async def cancel_task(task_id: str, caller: Writer, uow: UoW) -> Response:
    """Cancel the task (kept, status CANCELLED). Publishes TASK_UPDATED; 409 if it is completed."""
    async with uow() as tx:
        await service.cancel_task(tx, task_id, caller)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
