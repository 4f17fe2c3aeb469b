"""`crm up`'s six processes: the gateway gets the services' Kafka settings, so it refuses revoked tokens and
serves the live stream (it tails the topics)."""

from __future__ import annotations

from pathlib import Path

from crm.modes.local_cluster import SERVICES
from crm.modes.up import plan


def test_the_gateway_tails_the_same_kafka_as_the_services(tmp_path: Path) -> None:
    kafka = {"KAFKA_ENABLED": "true", "KAFKA_BROKERS": "127.0.0.1:39092"}
    per_service = {name: {**kafka, "DATABASE_URL": f"postgresql://db/{name}"} for name in SERVICES}
    processes = {p.name: p for p in plan(8000, tmp_path, "secret", per_service, None)}
    gateway = processes["gateway"].env
    assert gateway["KAFKA_ENABLED"] == "true" and gateway["KAFKA_BROKERS"] == "127.0.0.1:39092"
    assert "DATABASE_URL" not in gateway and "KAFKA_CLIENT_ID" not in gateway
    assert gateway["AUTH_SERVICE_URL"] == processes["auth"].url
