"""The security audit log: who did what to which account, from where. Append-only."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from crm.platform.pagination import Sortable, paginate
from crm.platform.unit_of_work import Tx
from crm.services.auth.models import AuditEvent


class Action(StrEnum):
    REGISTERED = "REGISTERED"
    LOGIN_SUCCEEDED = "LOGIN_SUCCEEDED"
    LOGIN_FAILED = "LOGIN_FAILED"
    LOGIN_THROTTLED = "LOGIN_THROTTLED"
    LOGOUT = "LOGOUT"
    REFRESH_TOKEN_REUSED = "REFRESH_TOKEN_REUSED"  # noqa: S105 - the whole family was revoked
    API_KEY_CREATED = "API_KEY_CREATED"
    API_KEYS_LISTED = "API_KEYS_LISTED"
    API_KEY_REVOKED = "API_KEY_REVOKED"
    API_KEY_USED = "API_KEY_USED"  # exchanged for an access token
    API_KEY_REFUSED = "API_KEY_REFUSED"
    USER_CREATED = "USER_CREATED"
    USER_UPDATED = "USER_UPDATED"
    ROLE_CHANGED = "ROLE_CHANGED"
    USER_DELETED = "USER_DELETED"


async def record(
    tx: Tx,
    action: Action,
    *,
    actor_id: str | None = None,
    actor_email: str | None = None,
    target_id: str | None = None,
    ip: str | None = None,
    **detail: Any,
) -> None:
    tx.session.add(
        AuditEvent(
            id=str(uuid.uuid4()),
            action=action.value,
            actor_id=actor_id,
            actor_email=actor_email,
            target_id=target_id,
            ip=ip,
            detail=detail,
        )
    )


AUDIT_SORT = Sortable(
    columns={"at": AuditEvent.at, "action": AuditEvent.action},
    tiebreak=AuditEvent.id,
    default=(AuditEvent.at.desc(), AuditEvent.id),
)


async def list_events(
    tx: Tx,
    *,
    limit: int,
    offset: int,
    action: str | None = None,
    actor_id: str | None = None,
    target_id: str | None = None,
    sort: str | None = None,
) -> tuple[Sequence[AuditEvent], int]:
    """A page of the audit log, newest first (or by ``sort``, an AUDIT_SORT value), and the total."""
    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor_id:
        query = query.where(AuditEvent.actor_id == actor_id)
    if target_id:
        query = query.where(AuditEvent.target_id == target_id)
    return await paginate(tx.session, query, AUDIT_SORT.order(sort), limit=limit, offset=offset)
