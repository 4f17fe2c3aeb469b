"""A consumer killed between applying its effects and committing its offset: it reads the same events again
after the restart, and the redelivery is harmless (no second first-contact task, no second TASK_CREATED).

Made deterministic from outside: a lock held on sales-activity's ``tasks`` table holds the consumer inside
its transaction with the backlog fetched; the broker is killed (a frozen one would still receive the commit
request from the socket buffer after the consumer's death); the lock is released, so the effects commit
while the offset commit cannot; then ``kill -9`` of the consumer, and the broker is started again."""

from __future__ import annotations

import asyncio
import re

import asyncpg
import httpx
import pytest

from crm.platform.bus.inspect import group_lags
from crm.platform.settings import KafkaSettings
from tests.support.chaos import ChaosBed
from tests.support.invariants import outbox_backlog
from tests.support.load import ADMIN, bearer
from tests.support.waiting import eventually

pytestmark = pytest.mark.connected
BACKLOG = 30
GROUP = "sales-activity-service"


async def first_contact_tasks(dsn: str, customers: list[str]) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM tasks WHERE kind = 'first_contact' AND customer_id = ANY($1::text[])",
                customers,
            )
        )
    finally:
        await connection.close()


async def committed_lag(bed: ChaosBed) -> int:
    kafka = KafkaSettings(enabled=True, brokers=(bed.bootstrap,))
    return sum(g.lag for g in await group_lags(kafka, [GROUP], ["customer.events"]))


async def duplicates_skipped(bed: ChaosBed) -> float:
    """Redelivered CUSTOMER_CREATED that sales-activity's inbox skipped, from its /metrics (ADMIN only)."""
    async with httpx.AsyncClient(timeout=10) as client:
        token = (await client.post(f"{bed.cluster.gateway}/api/auth/login", json=ADMIN)).json()["token"]
        url = bed.cluster.processes["sales_activity"].url
        text = (await client.get(f"{url}/metrics", headers=bearer(token))).text
    pattern = r'^crm_events_duplicates_total\{[^}]*type="CUSTOMER_CREATED"[^}]*\} (\S+)$'
    return sum(float(v) for v in re.findall(pattern, text, re.MULTILINE))


async def test_a_consumer_killed_after_its_effects_before_its_offset_commit_redelivers_harmlessly(
    bed: ChaosBed,
) -> None:
    dsn = bed.dsns["sales_activity"]
    await bed.kill("sales_activity")
    customers: list[str] = []
    async with httpx.AsyncClient(base_url=bed.cluster.gateway, timeout=20) as api:
        email, password = f"chaos-crash-{bed.seed}@example.com", f"Chaos-crash-{bed.seed}-pw1"
        registered = await api.post(
            "/api/auth/register", json={"email": email, "password": password, "name": email, "role": "SALES"}
        )
        assert registered.status_code == 201, registered.text
        bed.ledger.users[registered.json()["user"]["id"]] = email
        bed.passwords.add(password)
        token = registered.json()["token"]
        bed.tokens.add(token)
        for i in range(BACKLOG):
            name = f"chaos-crash-{bed.seed}-{i}"
            response = await api.post("/api/customers", headers=bearer(token), json={"name": name})
            assert response.status_code == 201, response.text
            customers.append(response.json()["id"])
            bed.ledger.customers[customers[-1]] = name

    async def published() -> bool:
        return (await outbox_backlog({"customer": bed.dsns["customer"]}))["customer"] == 0

    await eventually(published, timeout=30, what="the CUSTOMER_CREATED backlog on the topic")

    holder, watcher = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    broker_down = False
    try:
        lock = holder.transaction()
        await lock.start()
        await holder.execute("LOCK TABLE tasks IN EXCLUSIVE MODE")
        process = bed.cluster.processes["sales_activity"]
        process.start()

        async def consumer_waits_on_the_lock() -> bool:
            # from another connection: inside a transaction pg_stat_activity is one snapshot
            waiting = await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'INSERT INTO tasks%'"
            )
            return bool(waiting)

        await eventually(consumer_waits_on_the_lock, timeout=60, what="the consumer inside its transaction")
        await asyncio.to_thread(bed.broker.kill)
        broker_down = True
        await lock.commit()  # the consumer's effects and inbox rows commit; its offset commit cannot

        async def effects_applied() -> int:  # one transaction per fetched batch: all of it or nothing
            return await first_contact_tasks(dsn, customers)

        applied = await eventually(effects_applied, timeout=30, what="the first-contact tasks committed")
        await bed.kill("sales_activity")
    finally:
        if broker_down:
            await asyncio.to_thread(bed.broker.start)
        await holder.close()
        await watcher.close()
    uncommitted = await committed_lag(bed)
    assert uncommitted >= applied, f"the offsets were committed after all (lag {uncommitted})"
    await bed.start("sales_activity")

    async def redelivered() -> float:  # once the group has dropped the killed member (its session timeout)
        skipped = await duplicates_skipped(bed)
        return skipped if skipped >= applied else 0.0

    skipped = await eventually(
        redelivered, timeout=90, interval=0.5, what="the redelivery skipped by the inbox"
    )
    findings = await bed.converged()
    assert await first_contact_tasks(dsn, customers) == BACKLOG
    bed.report(
        "consumer killed before its offset commit",
        f"sales-activity killed with {BACKLOG} CUSTOMER_CREATED applied and their offsets uncommitted",
        findings,
        **{
            "redelivered and skipped by the inbox": int(skipped),
            "offsets uncommitted at the kill": uncommitted,
        },
    )
