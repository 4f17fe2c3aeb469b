"""The event envelope: what every message on every topic carries, and how it maps onto a Kafka record.

Key = the aggregate id (``subject``), so one entity's events stay in order on one partition. Value = the JSON
envelope. Headers repeat the identity in CloudEvents' Kafka binding (``ce_*``) plus W3C ``traceparent``, so
any Kafka tool can read them without decoding the value.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

SPEC_VERSION = "1.0"


class EnvelopeError(ValueError):
    """A record that is not a valid envelope (bad JSON, missing fields): a poison message."""


def new_event_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Envelope:
    type: str
    source: str
    subject: str
    data: dict[str, Any]
    topic: str
    version: int = 1
    id: str = field(default_factory=new_event_id)
    time: datetime = field(default_factory=utcnow)
    traceparent: str | None = None

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "id": self.id,
                "type": self.type,
                "source": self.source,
                "subject": self.subject,
                "time": self.time.isoformat(),
                "version": self.version,
                "data": self.data,
            }
        )

    def headers(self) -> list[tuple[str, bytes]]:
        headers = [
            ("ce_specversion", SPEC_VERSION.encode()),
            ("ce_id", self.id.encode()),
            ("ce_type", self.type.encode()),
            ("ce_source", self.source.encode()),
            ("ce_subject", self.subject.encode()),
            ("ce_time", self.time.isoformat().encode()),
            ("content-type", b"application/json"),
        ]
        if self.traceparent:
            headers.append(("traceparent", self.traceparent.encode()))
        return headers

    @classmethod
    def from_record(cls, topic: str, value: bytes | None, headers: list[tuple[str, bytes]]) -> Envelope:
        """Decode a record; raises :class:`EnvelopeError` for anything that is not an envelope."""
        if value is None:
            raise EnvelopeError("empty record value")
        try:
            body = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise EnvelopeError(f"value is not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise EnvelopeError("value is not a JSON object")
        try:
            data = body["data"]
            if not isinstance(data, dict):
                raise EnvelopeError("field 'data' is not an object")
            traceparent = None
            for key, header in headers:
                if key == "traceparent":
                    traceparent = header.decode()
                    break
            return cls(
                id=str(body["id"]),
                type=str(body["type"]),
                source=str(body["source"]),
                subject=str(body["subject"]),
                time=datetime.fromisoformat(body["time"]),
                version=int(body.get("version", 1)),
                data=data,
                topic=topic,
                traceparent=traceparent,
            )
        except KeyError as exc:
            raise EnvelopeError(f"missing field {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise EnvelopeError(f"malformed envelope: {exc}") from None
