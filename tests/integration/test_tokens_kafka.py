"""EdDSA tokens across six processes on the real Kafka broker and PostgreSQL: no JWT_SECRET anywhere; auth
signs with the key it made in its own database, every other process verifies with the public keys it fetched
from auth, and a logout is refused by every service within a second (each process tails user.events outside
any consumer group)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import jwt
import pytest

from crm.localinfra import KafkaBroker, PostgresCluster
from crm.modes.local_cluster import SERVICES, Cluster, plaintext_kafka, start_cluster
from tests.integration.conftest import ARTIFACTS
from tests.support.waiting import eventually

pytestmark = pytest.mark.connected

# What each service answers a USER with a valid token (never 401), through the gateway.
PROBES = {
    "customer": "/api/customers",
    "sales_activity": "/api/tasks",
    "opportunity": "/api/opportunities",
    "analytics": "/api/notifications",
    "auth": "/api/auth/me",
}


@pytest.fixture(scope="module")
def eddsa_cluster(kafka_broker: KafkaBroker, postgres: PostgresCluster) -> Iterator[Cluster]:
    admin = {"CRM_ADMIN_EMAIL": "admin@example.com", "CRM_ADMIN_PASSWORD": "Admin-Password-1"}
    envs = {n: {**plaintext_kafka(kafka_broker), **admin} for n in SERVICES}
    cluster = start_cluster("eddsa", ARTIFACTS, postgres, envs, jwt_secret=None)
    yield cluster
    cluster.stop()


async def ready_checks(cluster: Cluster, name: str) -> dict:
    async with httpx.AsyncClient(base_url=cluster.processes[name].url) as client:
        return (await client.get("/ready")).json()["checks"]


async def test_services_verify_eddsa_tokens_with_auths_public_keys(eddsa_cluster: Cluster) -> None:
    async with httpx.AsyncClient(base_url=eddsa_cluster.gateway, timeout=15) as api:
        jwks = (await api.get("/api/auth/.well-known/jwks.json")).json()
        (key,) = jwks["keys"]
        assert (key["kty"], key["crv"], key["alg"]) == ("OKP", "Ed25519", "EdDSA") and "d" not in key
        body = (
            await api.post(
                "/api/auth/register",
                json={"email": "eddsa@example.com", "password": "Password123!", "name": "Ed", "role": "USER"},
            )
        ).json()
        assert jwt.get_unverified_header(body["token"]) == {"alg": "EdDSA", "kid": key["kid"], "typ": "JWT"}
        headers = {"Authorization": f"Bearer {body['token']}"}
        for name, path in PROBES.items():
            probe = await api.get(path, headers=headers)
            assert probe.status_code == 200, (name, probe.text, dict(probe.headers))
    await eddsa_cluster.wait_for_log("auth", r"Signing key generated: " + key["kid"])
    for name in ("customer", "sales_activity", "opportunity", "analytics"):
        await eddsa_cluster.wait_for_log(
            name, r"🔑 Public keys loaded from http://127\.0\.0\.1:\d+/api/auth/"
        )
        checks = await ready_checks(eddsa_cluster, name)
        assert checks["tokens"]["algorithm"] == "EdDSA" and checks["tokens"]["publicKeys"] == 1, checks


async def test_a_logout_is_refused_by_every_service_within_a_second(eddsa_cluster: Cluster) -> None:
    for name in SERVICES:

        async def live(name: str = name) -> bool:
            return (await ready_checks(eddsa_cluster, name))["tokens"]["revocations"]["feed"] == "live"

        await eventually(live, timeout=30, what=f"{name}'s revocation feed live")
    async with httpx.AsyncClient(base_url=eddsa_cluster.gateway, timeout=15) as api:
        body = (
            await api.post(
                "/api/auth/register",
                json={
                    "email": "bye-kafka@example.com",
                    "password": "Password123!",
                    "name": "B",
                    "role": "USER",
                },
            )
        ).json()
        headers = {"Authorization": f"Bearer {body['token']}"}
        for path in PROBES.values():
            assert (await api.get(path, headers=headers)).status_code == 200, path
        started = time.monotonic()
        assert (await api.post("/api/auth/logout", headers=headers)).status_code == 204
        refused_after: dict[str, float] = {}
        while len(refused_after) < len(PROBES):
            elapsed = time.monotonic() - started
            assert elapsed < 1.0, f"still accepted after 1 s by {set(PROBES) - set(refused_after)}"
            for name, path in PROBES.items():
                if name not in refused_after and (await api.get(path, headers=headers)).status_code == 401:
                    refused_after[name] = time.monotonic() - started
        print("refused after logout (ms):", {n: round(s * 1000) for n, s in refused_after.items()})
        refused = await api.get("/api/customers", headers=headers)
        assert refused.json()["message"] == "Token revoked"
