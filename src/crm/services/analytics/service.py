"""analytics-service use cases of its API: a user's in-app notifications (read and mark read).

The read models are changed only by ``projections/`` (from events) and read by ``reports.py``. A
notification's read state lives in ``notification_reads``, keyed by its source event, so it survives a
rebuild.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from crm.contracts.roles import SEES_ALL
from crm.platform.db import dialect_insert
from crm.platform.errors import NotFound
from crm.platform.pagination import Sortable, count_rows
from crm.platform.security import Principal
from crm.platform.types import utcnow
from crm.platform.unit_of_work import Tx
from crm.services.analytics.models import CustomerActivity, CustomerRow, Notification, NotificationRead
from crm.services.analytics.schemas import NotificationOut, TimelineEntry, UnreadNotifications


def _mine(caller: Principal, *, unread_only: bool = False) -> Select[Notification, datetime]:
    query = (
        select(Notification, NotificationRead.read_at)
        .outerjoin(NotificationRead, NotificationRead.source_event_id == Notification.source_event_id)
        .where(Notification.user_id == caller.id)
    )
    return query.where(NotificationRead.read_at.is_(None)) if unread_only else query


def _out(notification: Notification, read_at: Any) -> NotificationOut:
    return NotificationOut(
        id=notification.id,
        kind=notification.kind,
        title=notification.title,
        subject_type=notification.subject_type,
        subject_id=notification.subject_id,
        created_at=notification.created_at,
        read=read_at is not None,
        read_at=read_at,
    )


NOTIFICATION_SORT = Sortable(
    columns={"createdAt": Notification.created_at, "kind": Notification.kind},
    tiebreak=Notification.id,
    default=(Notification.created_at.desc(), Notification.id.desc()),
)


async def list_notifications(
    tx: Tx,
    caller: Principal,
    *,
    limit: int,
    offset: int,
    unread_only: bool = False,
    sort: str | None = None,
) -> tuple[list[NotificationOut], int]:
    """A page of the caller's notifications, newest first (or by ``sort``, a NOTIFICATION_SORT value), and
    how many match."""
    query = _mine(caller, unread_only=unread_only)
    total = await count_rows(tx.session, query)
    order = NOTIFICATION_SORT.order(sort)
    rows = await tx.session.execute(query.order_by(*order).limit(limit).offset(offset))
    return [_out(n, read_at) for n, read_at in rows], total


async def unread_notifications(tx: Tx, caller: Principal, *, limit: int) -> UnreadNotifications:
    """How many of the caller's notifications are unread, and the newest ``limit`` of them."""
    items, count = await list_notifications(tx, caller, limit=limit, offset=0, unread_only=True)
    return UnreadNotifications(count=count, items=items)


async def mark_read(tx: Tx, caller: Principal, notification_id: str) -> NotificationOut:
    """Mark one of the caller's notifications read (idempotent: the first read time stays).
    Raises NotFound for an unknown id and for another user's notification alike."""
    row = (await tx.session.execute(_mine(caller).where(Notification.id == notification_id))).first()
    if row is None:
        raise NotFound("Notification not found")
    notification, read_at = row
    if read_at is None:
        read_at = utcnow()
        await _insert_reads(tx, caller, [notification.source_event_id], read_at)
    return _out(notification, read_at)


async def mark_all_read(tx: Tx, caller: Principal) -> int:
    """Mark every unread notification of the caller read; returns how many changed."""
    source_ids = list(
        await tx.session.scalars(
            _mine(caller, unread_only=True).with_only_columns(Notification.source_event_id)
        )
    )
    return await _insert_reads(tx, caller, source_ids, utcnow())


async def _insert_reads(tx: Tx, caller: Principal, source_event_ids: list[str], read_at: Any) -> int:
    insert = dialect_insert(tx.session)
    changed = 0
    for start in range(0, len(source_event_ids), 500):  # multi-row VALUES: its rowcount is exact
        rows = [
            {"source_event_id": s, "user_id": caller.id, "read_at": read_at}
            for s in source_event_ids[start : start + 500]
        ]
        statement = insert(NotificationRead.__table__).values(rows)
        statement = statement.on_conflict_do_nothing(index_elements=["source_event_id"])
        result = await tx.session.execute(statement)
        changed += int(result.rowcount)  # type: ignore[attr-defined]
    return changed


async def customer_timeline(
    tx: Tx, caller: Principal, customer_id: str, *, limit: int, offset: int
) -> tuple[list[TimelineEntry], int]:
    """A page of what happened to a customer and its work, newest first, and how many lines it has.
    Raises NotFound for a customer analytics has not heard of, and for one the caller may not see (USER and
    SALES see the customers they own; MANAGER, ADMIN and COMPLIANCE all)."""
    customer = await tx.session.get(CustomerRow, customer_id)
    if customer is None or (caller.role not in SEES_ALL and customer.owner_id != caller.id):
        raise NotFound("Customer not found")
    query = select(CustomerActivity).where(CustomerActivity.customer_id == customer_id)
    total = await count_rows(tx.session, query)
    order = (CustomerActivity.at.desc(), CustomerActivity.event_id.desc())
    rows = await tx.session.scalars(query.order_by(*order).limit(limit).offset(offset))
    return [
        TimelineEntry(
            id=row.event_id,
            type=row.event_type,
            at=row.at,
            subject_id=row.subject_id,
            actor_id=row.actor_id,
            detail=row.detail,
        )
        for row in rows
    ], total
