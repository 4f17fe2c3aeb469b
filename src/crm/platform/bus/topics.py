"""Topic provisioning on Kafka: create what is missing with the guide's settings, report drift.

Idempotent: an existing topic is left alone and compared with its spec instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from crm.platform.bus import BusError
from crm.platform.bus.kafka import client_options, explain
from crm.platform.bus.topic_spec import TopicSpec
from crm.platform.settings import KafkaSettings

TOPIC_ALREADY_EXISTS = 36


@dataclass(frozen=True)
class TopicReport:
    name: str
    created: bool
    drift: dict[str, tuple[str, str]]  # setting -> (expected, actual)


async def ensure_topics(kafka: KafkaSettings, specs: Sequence[TopicSpec]) -> list[TopicReport]:
    """Create the missing topics of ``specs``; return one report per topic. Raises BusError if unreachable."""
    admin = AIOKafkaAdminClient(**client_options(kafka))
    try:
        await admin.start()
    except Exception as exc:
        await admin.close()
        raise BusError(await explain(kafka, exc)) from exc
    try:
        existing = set(await admin.list_topics())
        cluster = await admin.describe_cluster()
        replication = min(3, max(1, len(cluster.get("brokers", [])) or 1))
        missing = [s for s in specs if s.name not in existing]
        created: set[str] = set()
        if missing:
            response = await admin.create_topics(
                [NewTopic(s.name, s.partitions, replication, topic_configs=s.configs()) for s in missing]
            )
            for name, code, *rest in response.topic_errors:
                if code not in (0, TOPIC_ALREADY_EXISTS):
                    message = rest[0] if rest else ""
                    raise BusError(f"❌ Could not create topic {name}: error {code} {message}")
                if code == 0:
                    created.add(name)
        return [
            TopicReport(s.name, s.name in created, {} if s.name in created else await _drift(admin, s))
            for s in specs
        ]
    finally:
        await admin.close()


async def _drift(admin: AIOKafkaAdminClient, spec: TopicSpec) -> dict[str, tuple[str, str]]:
    responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, spec.name)])
    actual: dict[str, str] = {}
    for response in responses:
        for resource in response.resources:
            for entry in resource[4]:
                actual[entry[0]] = entry[1]
    return {
        key: (value, actual.get(key, "?"))
        for key, value in spec.configs().items()
        if actual.get(key) != value
    }
