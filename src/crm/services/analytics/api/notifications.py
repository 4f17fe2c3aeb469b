"""``/api/notifications*``: the caller's own in-app notifications, for any signed-in user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from crm.platform.pagination import SORT_DESCRIPTION
from crm.platform.schemas import Offset, Page
from crm.platform.security import CurrentUser
from crm.platform.web import UoW
from crm.services.analytics import service
from crm.services.analytics.schemas import (
    NotificationOut,
    NotificationSort,
    ReadAllResult,
    UnreadNotifications,
)

router = APIRouter(prefix="/api/notifications", tags=["notifications"])


@router.get("", response_model=Page[NotificationOut])
async def list_notifications(
    caller: CurrentUser,
    uow: UoW,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
    unread: Annotated[bool, Query(description="only the unread ones")] = False,
    sort: Annotated[
        NotificationSort | None, Query(description=f"{SORT_DESCRIPTION}; newest first without")
    ] = None,
) -> Page[NotificationOut]:
    """My notifications, newest first."""
    async with uow() as tx:
        items, total = await service.list_notifications(
            tx, caller, limit=limit, offset=offset, unread_only=unread, sort=sort
        )
    return Page[NotificationOut](items=items, total=total, limit=limit, offset=offset)


@router.get("/unread", response_model=UnreadNotifications)
async def unread(
    caller: CurrentUser, uow: UoW, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> UnreadNotifications:
    """How many of my notifications are unread, and the newest of them."""
    async with uow() as tx:
        return await service.unread_notifications(tx, caller, limit=limit)


@router.post("/read-all", response_model=ReadAllResult)
async def read_all(caller: CurrentUser, uow: UoW) -> ReadAllResult:
    """Mark all my notifications read."""
    async with uow() as tx:
        return ReadAllResult(updated=await service.mark_all_read(tx, caller))


@router.post("/{notification_id}/read", response_model=NotificationOut)
async def read_one(notification_id: str, caller: CurrentUser, uow: UoW) -> NotificationOut:
    """Mark one of my notifications read (404 for anyone else's)."""
    async with uow() as tx:
        return await service.mark_read(tx, caller, notification_id)
