"""The event catalog: topics, event types and one typed payload per type. Services share only this and
``crm.platform``; reading this package answers "what does event X carry, and where does it go"."""

from crm.contracts.catalog import CATALOG, EventSpec, EventType, make_event, parse_payload, topic_of
from crm.contracts.topics import ALL_TOPIC_SPECS, Topic

__all__ = [
    "ALL_TOPIC_SPECS",
    "CATALOG",
    "EventSpec",
    "EventType",
    "Topic",
    "make_event",
    "parse_payload",
    "topic_of",
]
