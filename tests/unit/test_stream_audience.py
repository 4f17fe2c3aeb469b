"""Who receives which event on the live stream, and the stream's cursor."""

from __future__ import annotations

import pytest

from crm.platform.security import Principal
from crm.services.gateway.audience import sees
from crm.services.gateway.stream import format_cursor, parse_cursor

ME, OTHER = "u-me", "u-other"


def caller(role: str) -> Principal:
    return Principal(id=ME, email="me@example.com", role=role)


@pytest.mark.parametrize(
    ("role", "topic", "event_type", "data", "expected"),
    [
        ("USER", "sales-activity.events", "TASK_CREATED", {"assigneeId": ME}, True),
        ("USER", "sales-activity.events", "TASK_CREATED", {"assigneeId": OTHER}, False),
        ("USER", "customer.events", "CUSTOMER_CREATED", {"ownerId": ME}, True),
        ("USER", "customer.events", "CUSTOMER_DELETED", {"ownerId": OTHER, "deletedBy": ME}, True),
        ("SALES", "opportunity.events", "APPROVAL_REQUESTED", {"requesterId": OTHER}, False),
        ("MANAGER", "opportunity.events", "APPROVAL_REQUESTED", {"requesterId": OTHER}, True),
        ("COMPLIANCE", "customer.events", "CUSTOMER_CREATED", {"ownerId": OTHER}, True),
        ("ADMIN", "sales-activity.events", "MEETING_CREATED", {"ownerId": OTHER}, True),
        ("USER", "notification.events", "APPROVAL_RESULT", {"requesterId": ME, "decidedBy": OTHER}, True),
        # A notification goes to its recipient only: not to the manager who decided, nor to every manager.
        ("MANAGER", "notification.events", "APPROVAL_RESULT", {"requesterId": OTHER, "decidedBy": ME}, False),
        ("ADMIN", "notification.events", "TASK_DUE_SOON", {"assigneeId": OTHER}, False),
        # Security events never, even about oneself; other users' account events neither.
        ("USER", "user.events", "TOKEN_REVOKED", {"userId": ME}, False),
        ("ADMIN", "user.events", "API_KEY_REVOKED", {"revokedBy": ME}, False),
        ("ADMIN", "user.events", "USER_CREATED", {"userId": OTHER}, False),
        ("USER", "user.events", "USER_UPDATED", {"userId": ME}, True),
    ],
)
def test_who_sees_what(role: str, topic: str, event_type: str, data: dict, expected: bool) -> None:
    assert sees(caller(role), topic, event_type, data) is expected


def test_the_cursor_round_trips_and_rejects_what_it_is_not() -> None:
    positions = {("customer.events", 0): 41, ("notification.events", 2): 7}
    text = format_cursor(positions)
    assert text == "customer.events:0:41,notification.events:2:7"
    assert parse_cursor(text) == positions
    bad_ones = ("", "customer.events:0", "other.events:0:1", "customer.events:0:-1", "customer.events:a:1")
    for bad in bad_ones:
        with pytest.raises(ValueError):
            parse_cursor(bad)
