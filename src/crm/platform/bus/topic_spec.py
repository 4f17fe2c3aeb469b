"""What a topic should be (partitions, retention, message size): apart from the Kafka admin code in
``topics.py``, so declaring the topics does not import aiokafka (the embedded mode never loads it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int = 1
    retention_ms: int = 604_800_000  # 7 days, as the guide
    max_message_bytes: int = 1_048_576  # 1 MB, as the guide

    def configs(self) -> dict[str, str]:
        return {"retention.ms": str(self.retention_ms), "max.message.bytes": str(self.max_message_bytes)}
