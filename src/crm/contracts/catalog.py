"""Every event type, its topic, its payload model and its producer: the one table of the contract.

``make_event`` is the only way services build events, so a payload always matches its type's model and
lands on its type's topic. Who consumes what is read from the services' handler tables (``crm docs events``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from crm.contracts.base import Payload
from crm.contracts.payloads import customers, notifications, opportunities, sales_activity, users
from crm.contracts.topics import Topic
from crm.platform.consumer import PoisonMessage
from crm.platform.events import Envelope

P = TypeVar("P", bound=Payload)


class EventType(StrEnum):
    USER_CREATED = "USER_CREATED"
    USER_UPDATED = "USER_UPDATED"
    USER_DELETED = "USER_DELETED"
    TOKEN_REVOKED = "TOKEN_REVOKED"  # noqa: S105 - an event type, not a secret
    API_KEY_REVOKED = "API_KEY_REVOKED"
    CUSTOMER_CREATED = "CUSTOMER_CREATED"
    CUSTOMER_UPDATED = "CUSTOMER_UPDATED"
    CUSTOMER_DELETED = "CUSTOMER_DELETED"
    CUSTOMER_RESTORED = "CUSTOMER_RESTORED"
    MEETING_CREATED = "MEETING_CREATED"
    MEETING_UPDATED = "MEETING_UPDATED"
    TASK_CREATED = "TASK_CREATED"
    TASK_UPDATED = "TASK_UPDATED"
    TASK_COMPLETED = "TASK_COMPLETED"
    OPPORTUNITY_CREATED = "OPPORTUNITY_CREATED"
    OPPORTUNITY_STAGE_CHANGED = "OPPORTUNITY_STAGE_CHANGED"
    APPROVAL_REQUESTED = "APPROVAL_REQUESTED"
    APPROVAL_STATUS_CHANGED = "APPROVAL_STATUS_CHANGED"
    TASK_DUE_SOON = "TASK_DUE_SOON"
    APPROVAL_RESULT = "APPROVAL_RESULT"


@dataclass(frozen=True)
class EventSpec:
    topic: Topic
    payload: type[Payload]
    producer: str
    description: str
    version: int = 1


_AUTH, _CUST, _ACT, _OPP = "auth-service", "customer-service", "sales-activity-service", "opportunity-service"

CATALOG: dict[EventType, EventSpec] = {
    EventType.USER_CREATED: EventSpec(
        Topic.USER, users.UserCreated, _AUTH, "A user registered or was created"
    ),
    EventType.USER_UPDATED: EventSpec(Topic.USER, users.UserUpdated, _AUTH, "A user's name or role changed"),
    EventType.USER_DELETED: EventSpec(
        Topic.USER, users.UserDeleted, _AUTH, "A user was deleted (every process also refuses their tokens)"
    ),
    EventType.TOKEN_REVOKED: EventSpec(
        Topic.USER,
        users.TokenRevoked,
        _AUTH,
        "An access token was revoked (logout, refresh-token reuse): every process's revocation list, which "
        "tails the topic outside any consumer group, refuses it until it expires",
    ),
    EventType.API_KEY_REVOKED: EventSpec(
        Topic.USER,
        users.ApiKeyRevoked,
        _AUTH,
        "An integration's API key was revoked: every process refuses the tokens it obtained",
    ),
    EventType.CUSTOMER_CREATED: EventSpec(
        Topic.CUSTOMER, customers.CustomerCreated, _CUST, "A customer was created"
    ),
    EventType.CUSTOMER_UPDATED: EventSpec(
        Topic.CUSTOMER, customers.CustomerUpdated, _CUST, "A customer's fields or owner changed"
    ),
    EventType.CUSTOMER_DELETED: EventSpec(
        Topic.CUSTOMER, customers.CustomerDeleted, _CUST, "A customer was soft-deleted"
    ),
    EventType.CUSTOMER_RESTORED: EventSpec(
        Topic.CUSTOMER, customers.CustomerRestored, _CUST, "A soft-deleted customer was restored"
    ),
    EventType.MEETING_CREATED: EventSpec(
        Topic.SALES_ACTIVITY, sales_activity.MeetingCreated, _ACT, "A meeting was scheduled"
    ),
    EventType.MEETING_UPDATED: EventSpec(
        Topic.SALES_ACTIVITY, sales_activity.MeetingUpdated, _ACT, "A meeting changed or was cancelled"
    ),
    EventType.TASK_CREATED: EventSpec(
        Topic.SALES_ACTIVITY, sales_activity.TaskCreated, _ACT, "A task was created"
    ),
    EventType.TASK_UPDATED: EventSpec(
        Topic.SALES_ACTIVITY, sales_activity.TaskUpdated, _ACT, "A task changed or was cancelled"
    ),
    EventType.TASK_COMPLETED: EventSpec(
        Topic.SALES_ACTIVITY, sales_activity.TaskCompleted, _ACT, "A task was completed"
    ),
    EventType.OPPORTUNITY_CREATED: EventSpec(
        Topic.OPPORTUNITY, opportunities.OpportunityCreated, _OPP, "A deal was created"
    ),
    EventType.OPPORTUNITY_STAGE_CHANGED: EventSpec(
        Topic.OPPORTUNITY, opportunities.OpportunityStageChanged, _OPP, "A deal moved to another stage"
    ),
    EventType.APPROVAL_REQUESTED: EventSpec(
        Topic.OPPORTUNITY, opportunities.ApprovalRequested, _OPP, "Approval was requested for a deal"
    ),
    EventType.APPROVAL_STATUS_CHANGED: EventSpec(
        Topic.OPPORTUNITY,
        opportunities.ApprovalStatusChanged,
        _OPP,
        "An approval was approved, rejected, recalled or cancelled",
    ),
    EventType.TASK_DUE_SOON: EventSpec(
        Topic.NOTIFICATION, notifications.TaskDueSoon, _ACT, "A task is due within 24 hours"
    ),
    EventType.APPROVAL_RESULT: EventSpec(
        Topic.NOTIFICATION, notifications.ApprovalResult, _OPP, "Tell the requester an approval was decided"
    ),
}


_SPEC_OF: dict[str, EventSpec] = {event_type.value: spec for event_type, spec in CATALOG.items()}


def topic_of(event_type: str) -> str:
    return CATALOG[EventType(event_type)].topic.value


def make_event(
    event_type: EventType, payload: Payload, *, subject: str, source: str, traceparent: str | None = None
) -> Envelope:
    """An envelope for ``payload``; raises TypeError if the payload is not the type's model."""
    spec = CATALOG[event_type]
    if not isinstance(payload, spec.payload):
        raise TypeError(f"{event_type} carries {spec.payload.__name__}, not {type(payload).__name__}")
    return Envelope(
        type=event_type.value,
        source=source,
        subject=subject,
        data=payload.dump(),
        topic=spec.topic.value,
        version=spec.version,
        traceparent=traceparent,
    )


def parse_payload(envelope: Envelope, model: type[P]) -> P:
    """The typed payload of ``envelope``. Raises pydantic.ValidationError or PoisonMessage (both are
    dead-lettered by the consumer) for a payload that does not fit, or a version this code does not know."""
    spec = _SPEC_OF.get(envelope.type)
    if spec is None or spec.payload is not model:
        raise PoisonMessage(f"{envelope.type} does not carry {model.__name__}")
    if envelope.version != spec.version:
        raise PoisonMessage(f"{envelope.type} version {envelope.version} is not supported (v{spec.version})")
    return model.model_validate(envelope.data)
