"""customer-service's PostgreSQL stopped and started again under load: meanwhile that service answers 503
(never a 500, never a hang) and the rest of the CRM keeps working; afterwards it recovers by itself and
nothing is lost or doubled."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from tests.support.chaos import ChaosBed
from tests.support.load import ADMIN, bearer
from tests.support.waiting import eventually

pytestmark = pytest.mark.connected
DOWN_PROBES = 8  # requests to customer-service while its database is down, 0.5 s apart


async def probe(api: httpx.AsyncClient, method: str, path: str, token: str, **kw: object) -> str:
    try:
        response = await api.request(method, path, headers=bearer(token), timeout=5, **kw)  # type: ignore[arg-type]
    except httpx.TimeoutException:
        return "hang (no answer in 5 s)"
    return str(response.status_code)


async def test_a_services_postgres_restarted_under_load_gives_503_then_recovers(bed: ChaosBed) -> None:
    server = bed.own_postgres["customer"]
    driver = bed.driver(operations=10**6, pace=6)
    load = asyncio.create_task(driver.run())
    seen: Counter[str] = Counter()
    try:
        async with httpx.AsyncClient(base_url=bed.cluster.gateway, timeout=10) as api:
            token = (await api.post("/api/auth/login", json=ADMIN)).json()["token"]

            async def started() -> bool:
                if load.done():
                    load.result()
                return driver.done >= 10

            await eventually(started, timeout=120, what="the load under way")
            await asyncio.to_thread(server.stop)
            for i in range(DOWN_PROBES):
                seen[await probe(api, "GET", "/api/customers", token)] += 1
                body = {"name": f"while-down-{bed.seed}-{i}"}
                seen[await probe(api, "POST", "/api/customers", token, json=body)] += 1
                await asyncio.sleep(0.5)  # the fault's duration
            ready = (await api.get(f"{bed.cluster.processes['customer'].url}/ready")).status_code
            await asyncio.to_thread(server.start)

            async def recovered() -> bool:
                return await probe(api, "GET", "/api/customers", token) == "200"

            await eventually(recovered, timeout=30, interval=0.2, what="customer-service answering again")
        driver.stop()
        await load
    finally:
        driver.stop()
        load.cancel()
    assert not bed.ledger.failures, bed.ledger.failures
    assert seen == Counter({"503": 2 * DOWN_PROBES}), f"while its database was down: {dict(seen)}"
    assert ready == 503
    findings = await bed.converged()
    bed.report(
        "customer PostgreSQL restart",
        f"customer-service's PostgreSQL stopped for {DOWN_PROBES * 0.5:.0f}+ s under load, then started",
        findings,
        **{"answers while down": dict(seen), "driver retries of 503": bed.ledger.outcomes["retry 503"]},
    )
