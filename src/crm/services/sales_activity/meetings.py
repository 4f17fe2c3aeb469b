"""Meeting use cases: the only code that changes meetings (re-exported by ``service``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any

from pydantic.alias_generators import to_camel
from sqlalchemy import Select, func, or_, select

from crm.contracts import EventType, make_event
from crm.contracts.payloads.sales_activity import MeetingCreated, MeetingUpdated
from crm.contracts.roles import SEES_ALL
from crm.platform.errors import Conflict, Invalid, NotFound
from crm.platform.events import Envelope
from crm.platform.pagination import Sortable, paginate
from crm.platform.security import Principal
from crm.platform.unit_of_work import Tx
from crm.services.sales_activity import SOURCE
from crm.services.sales_activity.customers import require_customer
from crm.services.sales_activity.models import Meeting
from crm.services.sales_activity.schemas import MeetingCreate, MeetingStatus, MeetingUpdate

SCHEDULED, COMPLETED, CANCELLED = (s.value for s in MeetingStatus)
_UPDATABLE = (
    "customer_id",
    "opportunity_id",
    "title",
    "starts_at",
    "ends_at",
    "summary",
    "attendees",
    "notes",
    "location",
    "status",
)


def _visible_to(query: Select[Any], caller: Principal) -> Select[Any]:
    if caller.role in SEES_ALL:
        return query
    return query.where(Meeting.owner_id == caller.id)


def _check_times(starts_at: datetime, ends_at: datetime | None) -> None:
    if ends_at is not None and ends_at < starts_at:
        raise Invalid(
            "A meeting cannot end before it starts", fields={"endsAt": "must not be before startsAt"}
        )


async def get_meeting(tx: Tx, meeting_id: str, caller: Principal) -> Meeting:
    meeting = await tx.session.scalar(_visible_to(select(Meeting).where(Meeting.id == meeting_id), caller))
    if meeting is None:
        raise NotFound("Meeting not found")
    return meeting


MEETING_SORT = Sortable(
    columns={"startsAt": Meeting.starts_at, "createdAt": Meeting.created_at, "updatedAt": Meeting.updated_at},
    tiebreak=Meeting.id,
    default=(Meeting.starts_at, Meeting.id),
)


async def list_meetings(
    tx: Tx,
    caller: Principal,
    *,
    limit: int,
    offset: int,
    q: str | None = None,
    customer_id: str | None = None,
    owner_id: str | None = None,
    starts_from: datetime | None = None,
    starts_to: datetime | None = None,
    status: str | None = None,
    sort: str | None = None,
) -> tuple[Sequence[Meeting], int]:
    """A page of the meetings the caller may see, in start order (or by ``sort``, a MEETING_SORT value);
    ``starts_from``/``starts_to`` inclusive."""
    query = _visible_to(select(Meeting), caller)
    if q:
        needle = q.strip().lower()
        query = query.where(
            or_(
                func.lower(Meeting.title).contains(needle, autoescape=True),
                func.lower(Meeting.summary).contains(needle, autoescape=True),
            )
        )
    if customer_id:
        query = query.where(Meeting.customer_id == customer_id)
    if owner_id:
        query = query.where(Meeting.owner_id == owner_id)
    if status:
        query = query.where(Meeting.status == status)
    if starts_from is not None:
        query = query.where(Meeting.starts_at >= starts_from)
    if starts_to is not None:
        query = query.where(Meeting.starts_at <= starts_to)
    return await paginate(tx.session, query, MEETING_SORT.order(sort), limit=limit, offset=offset)


async def create_meeting(tx: Tx, data: MeetingCreate, caller: Principal) -> Meeting:
    """A meeting owned by the caller with a customer they may see; emits MEETING_CREATED."""
    await require_customer(tx, data.customer_id, caller)
    _check_times(data.starts_at, data.ends_at)
    meeting = Meeting(
        id=str(uuid.uuid4()),
        customer_id=data.customer_id,
        opportunity_id=data.opportunity_id,
        owner_id=caller.id,
        title=data.title,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        summary=data.summary,
        attendees=list(data.attendees),
        notes=data.notes,
        location=data.location,
        status=SCHEDULED,
    )
    tx.session.add(meeting)
    await tx.session.flush()
    await tx.session.refresh(meeting)
    payload = MeetingCreated(
        meeting_id=meeting.id,
        customer_id=meeting.customer_id,
        opportunity_id=meeting.opportunity_id,
        owner_id=meeting.owner_id,
        title=meeting.title,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        status=meeting.status,
    )
    await tx.emit(make_event(EventType.MEETING_CREATED, payload, subject=meeting.id, source=SOURCE))
    return meeting


async def update_meeting(tx: Tx, meeting_id: str, data: MeetingUpdate, caller: Principal) -> Meeting:
    """Change the fields sent (status included); emits MEETING_UPDATED naming them, if any changed."""
    meeting = await get_meeting(tx, meeting_id, caller)
    sent = data.model_fields_set
    if "customer_id" in sent and data.customer_id and data.customer_id != meeting.customer_id:
        await require_customer(tx, data.customer_id, caller)
    changed: list[str] = []
    for name in _UPDATABLE:
        value = getattr(data, name)
        value = value.value if isinstance(value, Enum) else value
        if name in sent and value != getattr(meeting, name):
            setattr(meeting, name, list(value) if name == "attendees" else value)
            changed.append(to_camel(name))
    _check_times(meeting.starts_at, meeting.ends_at)
    if changed:
        await tx.session.flush()
        await tx.emit(_updated(meeting, changed))
    return meeting


async def cancel_meeting(tx: Tx, meeting_id: str, caller: Principal) -> Meeting:
    """Cancel (the API's DELETE): idempotent; a meeting that took place stays completed (409)."""
    meeting = await get_meeting(tx, meeting_id, caller)
    if meeting.status == COMPLETED:
        raise Conflict("A completed meeting cannot be cancelled", fields={"status": COMPLETED})
    if meeting.status != CANCELLED:
        await _cancel(tx, meeting)
    return meeting


async def cancel_scheduled_meetings(
    tx: Tx,
    *,
    owner_id: str | None = None,
    customer_id: str | None = None,
    starting_after: datetime | None = None,
) -> int:
    """Cancel the scheduled meetings of an owner or a customer (the deletion sagas), optionally only those
    starting after a time; one MEETING_UPDATED each."""
    query = select(Meeting).where(Meeting.status == SCHEDULED)
    if owner_id is not None:
        query = query.where(Meeting.owner_id == owner_id)
    if customer_id is not None:
        query = query.where(Meeting.customer_id == customer_id)
    if starting_after is not None:
        query = query.where(Meeting.starts_at > starting_after)
    meetings = (await tx.session.scalars(query.order_by(Meeting.starts_at, Meeting.id))).all()
    for meeting in meetings:
        await _cancel(tx, meeting)
    return len(meetings)


async def _cancel(tx: Tx, meeting: Meeting) -> None:
    meeting.status = CANCELLED
    await tx.session.flush()
    await tx.emit(_updated(meeting, ["status"]))


def _updated(meeting: Meeting, changed: list[str]) -> Envelope:
    payload = MeetingUpdated(
        meeting_id=meeting.id,
        customer_id=meeting.customer_id,
        opportunity_id=meeting.opportunity_id,
        owner_id=meeting.owner_id,
        status=meeting.status,
        changed=changed,
        starts_at=meeting.starts_at,
    )
    return make_event(EventType.MEETING_UPDATED, payload, subject=meeting.id, source=SOURCE)
