"""The embedded CRM behind a gateway configured as ``crm dev`` configures it: token checked at the edge, the
dev profile's rate limits, request ids shared with the services — the guide's flow still works."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crm.platform.security import JwtVerifier, Tokens
from crm.platform.settings import EnvReader
from crm.services.gateway.app import Gateway
from crm.services.gateway.config import GatewayConfig
from tests.support.embedded import bearer, register, running_embedded

SECRET = "embedded-gateway-secret-" + "e" * 32


class Counting:
    """An upstream that counts what it forwards."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.forwarded = inner, inner.name, 0

    async def start(self) -> None: ...
    async def close(self) -> None: ...

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.inner(scope, receive, send)

    async def forward(self, *args: Any) -> None:
        self.forwarded += 1
        await self.inner.forward(*args)

    async def ready(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.inner.ready()
        return result


@pytest.fixture
async def crm(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Counting]]:
    async with running_embedded(tmp_path, JWT_SECRET=SECRET) as (embedded, _client):
        upstreams: dict[str, Any] = dict(embedded.gateway.upstreams)
        customers = upstreams["customer"] = Counting(upstreams["customer"])
        config = GatewayConfig.from_env(EnvReader({"CORS_ORIGINS": "http://localhost:5173"}), "dev")
        app = Gateway(upstreams, verifier=JwtVerifier(Tokens(SECRET).verification_keys()), config=config)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://crm.test") as client:
            yield client, customers


async def test_the_guides_flow_through_the_configured_edge(crm: tuple[httpx.AsyncClient, Counting]) -> None:
    client, customers = crm
    registered = await register(client, "edge@example.com", name="Edge User")
    assert customers.forwarded == 0
    token = registered["token"]
    listed = await client.get("/api/customers", headers=bearer(token))
    assert listed.status_code == 200
    assert int(listed.headers["ratelimit-remaining"]) > 1000, "crm dev's generous budget"
    created = await client.post(
        "/api/customers",
        headers=bearer(token),
        json={"name": "Test Company", "industry": "Technology", "size": "MEDIUM"},
    )
    assert created.status_code == 201, created.text
    assert created.headers["x-content-type-options"] == "nosniff"
    assert customers.forwarded == 2


async def test_no_token_stops_at_the_edge(crm: tuple[httpx.AsyncClient, Counting]) -> None:
    client, customers = crm
    for call in (client.get("/api/customers"), client.post("/api/customers", json={"name": "X"})):
        response = await call
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert customers.forwarded == 0, "customer-service never saw them"


async def test_the_service_and_the_gateway_agree_on_the_request_id(
    crm: tuple[httpx.AsyncClient, Counting],
) -> None:
    client, _customers = crm
    token = (await register(client, "rid@example.com"))["token"]
    missing = await client.get(
        "/api/customers/no-such-id", headers={**bearer(token), "X-Request-ID": "rid-1"}
    )
    assert missing.status_code == 404
    assert missing.json()["requestId"] == "rid-1" == missing.headers["x-request-id"]
    assert missing.headers.get_list("x-request-id") == ["rid-1"], "one header, not the service's and ours"
    made = await client.get("/api/customers/no-such-id", headers=bearer(token))
    assert made.json()["requestId"] == made.headers["x-request-id"]


async def test_health_reports_the_gateway_and_every_service(crm: tuple[httpx.AsyncClient, Counting]) -> None:
    client, _customers = crm
    body = (await client.get("/health")).json()
    assert body["status"] == "ok"
    assert body["gateway"]["rateLimit"]["backend"] == "memory" and body["gateway"]["edgeAuth"] == "on"
    assert body["gateway"]["cors"] == ["http://localhost:5173"]
    assert {s["status"] for s in body["services"].values()} == {"up"}
