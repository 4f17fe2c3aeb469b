"""The guide's five topics (1 partition by default, 7-day retention, 1 MB messages) and their DLQ twins."""

from __future__ import annotations

from enum import StrEnum

from crm.platform.bus.topic_spec import TopicSpec


class Topic(StrEnum):
    USER = "user.events"
    CUSTOMER = "customer.events"
    SALES_ACTIVITY = "sales-activity.events"
    OPPORTUNITY = "opportunity.events"
    NOTIFICATION = "notification.events"


def dlq(topic: str) -> str:
    return f"{topic}.dlq"


def topic_specs(partitions: int = 1) -> list[TopicSpec]:
    """Every topic the CRM uses, with its dead-letter twin."""
    return [TopicSpec(name, partitions) for t in Topic for name in (t.value, dlq(t.value))]


ALL_TOPIC_SPECS = topic_specs()
