"""Register → customer visible through the gateway: six processes on real Kafka + PostgreSQL, side by side
with the same flow on the embedded CRM (in-memory bus, SQLite) in the same run.

Prints, in milliseconds:
- the register request itself (argon2id hashing dominates it by design),
- 201 → the user's customer listed by GET /api/customers (the event's trip: outbox relay → Kafka →
  customer-service consumer → its transaction), polled every 2 ms (the polling itself loads the CPU),
- the pipeline alone, unperturbed by polling: the customer row's createdAt minus the user row's createdAt.

Usage: .venv/bin/python -m bench.register_to_customer [--users 200]
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

from bench.stats import print_table, summary_ms
from crm.localinfra import KafkaBroker, PostgresCluster
from crm.modes.local_cluster import SERVICES, plaintext_kafka, start_cluster

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


async def distributed_run(users: int, work: Path) -> Figures:
    broker = KafkaBroker(work / "kafka").start()
    postgres = PostgresCluster().start()  # its own temp dir: the postgres user must reach it
    cluster = None
    try:
        kafka = {**plaintext_kafka(broker), "LOG_LEVEL": "WARNING"}
        cluster = start_cluster("bench", work / "logs", postgres, {n: kafka for n in SERVICES})
        async with httpx.AsyncClient(base_url=cluster.gateway, timeout=30) as client:
            await measure(client, 5)  # warm-up: consumer groups joined, connections pooled
            return await measure(client, users)
    finally:
        if cluster is not None:
            cluster.stop()
        postgres.stop()
        broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as tmp:
        work = Path(tmp)
        emb_register, emb_visible, emb_pipeline = asyncio.run(embedded_run(args.users, work / "embedded"))
        dist_register, dist_visible, dist_pipeline = asyncio.run(distributed_run(args.users, work))
    print_table(
        f"register → customer visible, {args.users} users, sequential (ms)",
        [
            ("six processes, Kafka + PostgreSQL: register", summary_ms(dist_register)),
            ("six processes: 201 → customer visible", summary_ms(dist_visible)),
            ("six processes: user row → customer row", summary_ms(dist_pipeline)),
            ("embedded, memory bus + SQLite: register", summary_ms(emb_register)),
            ("embedded: 201 → customer visible", summary_ms(emb_visible)),
            ("embedded: user row → customer row", summary_ms(emb_pipeline)),
        ],
    )
    d, e = summary_ms(dist_visible), summary_ms(emb_visible)
    ratio = f"p50 {d['p50'] / e['p50']:.2f}x, p99 {d['p99'] / e['p99']:.2f}x"
    print(f"\nratio six-process / embedded (201 → visible): {ratio}")


if __name__ == "__main__":
    main()
