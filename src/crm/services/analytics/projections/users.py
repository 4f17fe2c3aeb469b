"""``user.events`` → one row per user: its role and whether it is deleted (users by role)."""

from __future__ import annotations

from crm.contracts import parse_payload
from crm.contracts.payloads.users import UserCreated, UserDeleted, UserUpdated
from crm.platform.events import Envelope
from crm.platform.unit_of_work import Tx
from crm.services.analytics.models import UserRow
from crm.services.analytics.projections.base import event_time, is_newer
from crm.services.analytics.projections.rows import get_or_new, loads


@loads(UserRow, "userId")
async def user_created(tx: Tx, event: Envelope) -> None:
    user = parse_payload(event, UserCreated)
    at = event_time(event)
    row = await get_or_new(tx, UserRow, user.user_id)
    row.created_on = at.date()
    if is_newer(row.state_at, at):
        row.role, row.state_at = user.role, at
    elif row.role is None:
        row.role = user.role


@loads(UserRow, "userId")
async def user_updated(tx: Tx, event: Envelope) -> None:
    user = parse_payload(event, UserUpdated)
    at = event_time(event)
    row = await get_or_new(tx, UserRow, user.user_id)
    if is_newer(row.state_at, at):
        row.role, row.state_at = user.role, at


@loads(UserRow, "userId")
async def user_deleted(tx: Tx, event: Envelope) -> None:
    user = parse_payload(event, UserDeleted)
    at = event_time(event)
    row = await get_or_new(tx, UserRow, user.user_id)
    # A deletion is final: no later-arriving older event brings the user back.
    row.deleted = True
    if is_newer(row.state_at, at):
        row.state_at = at
