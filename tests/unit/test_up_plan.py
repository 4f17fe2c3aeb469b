"""`crm up`'s six processes: the gateway gets the services' Kafka settings, so it refuses revoked tokens and
serves the live stream (it tails the topics); tokens are EdDSA unless the user set JWT_SECRET."""

from __future__ import annotations

from pathlib import Path

from crm.modes.local_cluster import SERVICES
from crm.modes.up import plan
from crm.platform.settings import Settings

KAFKA = {"KAFKA_ENABLED": "true", "KAFKA_BROKERS": "127.0.0.1:39092"}
PER_SERVICE = {name: {**KAFKA, "DATABASE_URL": f"postgresql://db/{name}"} for name in SERVICES}


def test_the_gateway_tails_the_same_kafka_as_the_services(tmp_path: Path) -> None:
    processes = {p.name: p for p in plan(8000, tmp_path, None, PER_SERVICE, None)}
    gateway = processes["gateway"].env
    assert gateway["KAFKA_ENABLED"] == "true" and gateway["KAFKA_BROKERS"] == "127.0.0.1:39092"
    assert "DATABASE_URL" not in gateway and "KAFKA_CLIENT_ID" not in gateway
    assert gateway["AUTH_SERVICE_URL"] == processes["auth"].url


def test_by_default_each_process_verifies_with_auths_public_keys_none_holds_a_secret(tmp_path: Path) -> None:
    processes = {p.name: p for p in plan(8000, tmp_path, None, PER_SERVICE, None)}
    for name, process in processes.items():
        assert "JWT_SECRET" not in process.env, name
        settings = Settings.from_env(name, process.env)
        assert not settings.jwt_secret, name
        if name != "auth":  # auth signs and verifies with its own keys
            assert settings.service_urls["auth"] == processes["auth"].url, name


def test_jwt_secret_set_by_the_user_reaches_every_process(tmp_path: Path) -> None:
    secret = "s" * 40
    processes = plan(8000, tmp_path, secret, PER_SERVICE, None)
    assert {p.name for p in processes} == {*SERVICES, "gateway"}
    assert all(p.env["JWT_SECRET"] == secret for p in processes)
