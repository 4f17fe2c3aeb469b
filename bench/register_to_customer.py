"""Register → customer visible through the gateway: six processes on real Kafka + PostgreSQL, side by side
with the same flow on the embedded CRM (durable local bus, SQLite) in the same run.

Prints, in milliseconds:
- the register request itself (argon2id hashing dominates it by design),
- 201 → the user's customer listed by GET /api/customers (the event's trip: outbox relay → Kafka →
  customer-service consumer → its transaction), polled every 2 ms (the polling itself loads the CPU),
- the pipeline alone, unperturbed by polling: the customer row's createdAt minus the user row's createdAt.

Usage: .venv/bin/python -m bench latency  (or: python -m bench.register_to_customer [--users 200])
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx

from bench.bed import Bed
from bench.stats import Figure, print_figures, print_table, summary_ms

Figures = tuple[list[float], list[float], list[float]]


async def measure(client: httpx.AsyncClient, users: int) -> Figures:
    register_times: list[float] = []
    visible_times: list[float] = []
    pipeline_times: list[float] = []
    for _ in range(users):
        email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
        started = time.perf_counter()
        response = await client.post(
            "/api/auth/register",
            json={"email": email, "password": "Password123!", "name": "Bench", "role": "USER"},
        )
        answered = time.perf_counter()
        assert response.status_code == 201, response.text
        headers = {"Authorization": f"Bearer {response.json()['token']}"}
        deadline = answered + 30
        while True:
            listing = await client.get("/api/customers", headers=headers)
            if listing.json()["total"]:
                customer_at = datetime.fromisoformat(listing.json()["items"][0]["createdAt"])
                user_at = datetime.fromisoformat(response.json()["user"]["createdAt"])
                pipeline_times.append((customer_at - user_at).total_seconds())
                break
            if time.perf_counter() > deadline:
                raise RuntimeError("customer never appeared")
            await asyncio.sleep(0.002)
        register_times.append(answered - started)
        visible_times.append(time.perf_counter() - answered)
    return register_times, visible_times, pipeline_times


async def embedded_run(users: int, data_dir: Path) -> Figures:
    from crm.modes.embedded import build_embedded

    crm = build_embedded(data_dir, {"LOG_LEVEL": "WARNING"})
    for hook in crm.gateway.on_startup:
        await hook()
    try:
        transport = httpx.ASGITransport(app=crm.gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://crm") as client:
            await measure(client, 5)  # warm-up
            return await measure(client, users)
    finally:
        for hook in crm.gateway.on_shutdown:
            await hook()


async def distributed_run(users: int, bed: Bed) -> Figures:
    async with httpx.AsyncClient(base_url=bed.cluster.gateway, timeout=30) as client:
        await measure(client, 5)  # warm-up: consumer groups joined, connections pooled
        return await measure(client, users)


def figures(bed: Bed, users: int) -> list[Figure]:
    """p50 and p99 of 201 → customer visible on six processes, the embedded mode's as yardstick."""
    emb_register, emb_visible, emb_pipeline = asyncio.run(embedded_run(users, bed.work / "embedded"))
    dist_register, dist_visible, dist_pipeline = asyncio.run(distributed_run(users, bed))
    print_table(
        f"register → customer visible, {users} users, sequential (ms)",
        [
            ("six processes, Kafka + PostgreSQL: register", summary_ms(dist_register)),
            ("six processes: 201 → customer visible", summary_ms(dist_visible)),
            ("six processes: user row → customer row", summary_ms(dist_pipeline)),
            ("embedded, local bus + SQLite: register", summary_ms(emb_register)),
            ("embedded: 201 → customer visible", summary_ms(emb_visible)),
            ("embedded: user row → customer row", summary_ms(emb_pipeline)),
        ],
    )
    d, e = summary_ms(dist_visible), summary_ms(emb_visible)
    return [
        Figure(
            f"register → customer visible, six processes, p{q}",
            "ms",
            d[f"p{q}"],
            goal,
            False,
            e[f"p{q}"],
            "embedded (local bus)",
        )
        for q, goal in ((50, 10.0), (99, 25.0))
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as tmp:
        bed = Bed(Path(tmp))
        try:
            print_figures(figures(bed, args.users))
        finally:
            bed.close()


if __name__ == "__main__":
    main()
