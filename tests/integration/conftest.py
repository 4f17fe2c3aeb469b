from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crm.localinfra import KafkaBroker, PostgresCluster
from crm.modes.local_cluster import SERVICES, Cluster, plaintext_kafka, sasl_kafka, start_cluster

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "logs"


@pytest.fixture(scope="module")
def plaintext_cluster(kafka_broker: KafkaBroker, postgres: PostgresCluster) -> Iterator[Cluster]:
    """The six processes over Kafka's PLAINTEXT listener. Module-scoped: two clusters must not run at once,
    as their services would share consumer groups (the guide's KAFKA_CLIENT_IDs) on the one broker."""
    admin = {"CRM_ADMIN_EMAIL": "admin@example.com", "CRM_ADMIN_PASSWORD": "Admin-Password-1"}
    envs = {n: {**plaintext_kafka(kafka_broker), **admin} for n in SERVICES}
    cluster = start_cluster("plain", ARTIFACTS, postgres, envs)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def sasl_cluster(kafka_broker: KafkaBroker, postgres: PostgresCluster) -> Iterator[Cluster]:
    """The six processes over SASL_SSL with the guide's variables: PLAIN for some services,
    SCRAM-SHA-512 for the others, TLS verified against the broker's CA."""
    mechanisms = {
        "auth": "plain",
        "sales_activity": "plain",
        "customer": "scram-sha-512",
        "opportunity": "scram-sha-512",
        "analytics": "scram-sha-256",
    }
    kafka = {n: sasl_kafka(kafka_broker, m) for n, m in mechanisms.items()}
    cluster = start_cluster("sasl", ARTIFACTS, postgres, kafka)
    yield cluster
    cluster.stop()
