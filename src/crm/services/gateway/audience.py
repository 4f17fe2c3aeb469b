"""Who may see an event on the live stream (``GET /api/stream``): the rule, in one function.

- Never the security events (``TOKEN_REVOKED``, ``API_KEY_REVOKED``): they name sessions and keys.
- A notification (``notification.events``) only to its recipient: the user its payload is addressed to.
- MANAGER, ADMIN and COMPLIANCE see every event of customers, sales activities and deals (so every
  ``APPROVAL_REQUESTED``: their inbox), as they see every such record through the API.
- Anyone else sees an event whose payload names them: owner, assignee, requester, the user it is about, the
  approver or decider, or who created, completed, deleted or restored the thing (their own action, seen in
  their other tabs), or to whom a deleted user's work goes.
"""

from __future__ import annotations

from typing import Any

from crm.contracts import EventType, Topic
from crm.contracts.roles import SEES_ALL
from crm.platform.security import Principal

SECURITY_EVENTS = frozenset({EventType.TOKEN_REVOKED.value, EventType.API_KEY_REVOKED.value})
OVERSEEN_TOPICS = frozenset({Topic.CUSTOMER.value, Topic.SALES_ACTIVITY.value, Topic.OPPORTUNITY.value})
RECIPIENT_FIELDS = ("recipientId", "assigneeId", "requesterId", "userId")
NAMING_FIELDS = (
    *RECIPIENT_FIELDS,
    "ownerId",
    "approverId",
    "decidedBy",
    "createdBy",
    "completedBy",
    "deletedBy",
    "restoredBy",
    "reassignTo",
)
# Every topic the stream reads.
STREAMED_TOPICS = (*sorted(OVERSEEN_TOPICS), Topic.NOTIFICATION.value, Topic.USER.value)


def sees(principal: Principal, topic: str, event_type: str, data: dict[str, Any]) -> bool:
    """Whether ``principal`` receives this event on the live stream."""
    if event_type in SECURITY_EVENTS:
        return False
    if topic == Topic.NOTIFICATION:
        return _names(data, principal.id, RECIPIENT_FIELDS)
    if topic in OVERSEEN_TOPICS and principal.role in SEES_ALL:
        return True
    return _names(data, principal.id, NAMING_FIELDS)


def _names(data: dict[str, Any], user_id: str, fields: tuple[str, ...]) -> bool:
    return any(data.get(name) == user_id for name in fields)
