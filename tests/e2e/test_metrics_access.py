"""``/metrics`` is never public (the gateway's and every service's): METRICS_TOKEN as a bearer token (what
Prometheus sends) or an ADMIN's access token. And what the gateway counts at the edge: the requests it
forwarded, by area and status, with their latency, and the ones it refused itself (401, 403, 413, 429)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from crm.modes.embedded import Embedded
from tests.support.embedded import bearer, running_embedded, token_for

METRICS_TOKEN = "scrape-" + "s" * 40


def samples(text: str, name: str, **labels: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and set(labels.items()) <= set(s.labels.items())
    )


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics", headers=bearer(METRICS_TOKEN))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_metrics_need_the_metrics_token_or_an_admin(tmp_path: Path) -> None:
    async with running_embedded(tmp_path, METRICS_TOKEN=METRICS_TOKEN) as (crm, client):
        _, admin = token_for(crm, "ADMIN")
        _, manager = token_for(crm, "MANAGER")
        nobody = await client.get("/metrics")
        assert nobody.status_code == 401 and nobody.headers["www-authenticate"] == "Bearer"
        assert nobody.json()["error"] == "unauthorized" and "crm_http" not in nobody.text
        assert (await client.get("/metrics", headers=bearer("wrong-" + METRICS_TOKEN))).status_code == 401
        assert (await client.get("/metrics", headers=bearer(manager))).status_code == 403
        assert (await client.get("/metrics", headers=bearer(admin))).status_code == 200
        assert "crm_http_requests_total" in await scrape(client)
        # A service's own /metrics (its port, in the distributed mode) follows the same rule.
        service = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=_app(crm, "customer")), base_url="http://customer"
        )
        async with service:
            assert (await service.get("/metrics")).status_code == 401
            assert (await service.get("/metrics", headers=bearer(manager))).status_code == 403
            assert (await service.get("/metrics", headers=bearer(METRICS_TOKEN))).status_code == 200
            assert (await service.get("/metrics", headers=bearer(admin))).status_code == 200


async def test_without_metrics_token_only_an_admin_may_scrape(tmp_path: Path) -> None:
    async with running_embedded(tmp_path) as (crm, client):
        _, admin = token_for(crm, "ADMIN")
        assert (await client.get("/metrics", headers=bearer(""))).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer"})).status_code == 401
        assert (await client.get("/metrics", headers=bearer(admin))).status_code == 200


async def test_the_gateway_counts_at_the_edge(tmp_path: Path) -> None:
    env = {
        "METRICS_TOKEN": METRICS_TOKEN,
        "RATE_LIMIT_PER_USER": "8/60",
        "CORS_ORIGINS": "https://crm.example",
    }
    async with running_embedded(tmp_path, **env) as (crm, client):
        _, rep = token_for(crm, "SALES")
        before = await scrape(client)
        gateway = {"service": "gateway"}
        for _ in range(3):
            assert (await client.get("/api/customers", headers=bearer(rep))).status_code == 200
        assert (await client.get("/api/customers/nope", headers=bearer(rep))).status_code == 404
        assert (await client.get("/api/customers")).status_code == 401
        huge = await client.post("/api/customers", headers=bearer(rep), content=b"x" * 1_100_000)
        assert huge.status_code == 413
        preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        assert (await client.options("/api/customers", headers=preflight)).status_code == 403
        while (await client.get("/api/tasks", headers=bearer(rep))).status_code != 429:
            pass
        after = await scrape(client)

        def added(name: str, **labels: str) -> float:
            return samples(after, name, **gateway, **labels) - samples(before, name, **gateway, **labels)

        route = {"route": "/api/customers", "method": "GET"}
        assert added("crm_http_requests_total", **route, status="200") == 3
        assert added("crm_http_requests_total", **route, status="404") == 1  # the service's answer
        assert added("crm_http_request_duration_seconds_count", **route) == 4
        assert added("crm_http_requests_total", route="/api/tasks", status="200") >= 1
        assert added("crm_gateway_rejections_total", status="401", reason="unauthorized") == 1
        assert added("crm_gateway_rejections_total", status="413", reason="payload_too_large") == 1
        assert added("crm_gateway_rejections_total", status="403", reason="cors_forbidden") == 1
        assert added("crm_gateway_rejections_total", status="429", reason="rate_limited") == 1


def _app(crm: Embedded, service: str) -> Any:
    return crm.gateway.upstreams[service].app  # type: ignore[attr-defined]
