"""``/api/reports/customers/{id}/timeline``: what happened to one customer, for whoever may see it."""

from __future__ import annotations

from fastapi import APIRouter

from crm.platform.responses import errors
from crm.platform.schemas import Limit, Offset, Page
from crm.platform.security import CurrentUser
from crm.platform.web import UoW
from crm.services.analytics import service
from crm.services.analytics.schemas import TimelineEntry

router = APIRouter(prefix="/api/reports", tags=["timeline"])


@router.get("/customers/{customer_id}/timeline", response_model=Page[TimelineEntry], responses=errors(404))
async def customer_timeline(
    customer_id: str, caller: CurrentUser, uow: UoW, limit: Limit = 50, offset: Offset = 0
) -> Page[TimelineEntry]:
    """The customer's events and those of its tasks, meetings, deals and approvals (created, updated,
    reassigned, deleted and restored, completed, moved, decided), newest first. Its owner sees it; MANAGER,
    ADMIN and COMPLIANCE see every customer's (404 for others, as for an unknown customer). Read from
    analytics' projection: it trails the services by a moment."""
    async with uow() as tx:
        items, total = await service.customer_timeline(tx, caller, customer_id, limit=limit, offset=offset)
    return Page[TimelineEntry](items=items, total=total, limit=limit, offset=offset)
