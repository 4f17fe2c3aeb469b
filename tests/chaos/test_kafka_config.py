"""A service restarted with a wrong KAFKA_PASSWORD, then with an unreachable broker: the guide's exact
messages, HTTP keeps answering, its events wait in the outbox, and delivery resumes once it is restarted
with the right configuration."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pytest

from crm.localinfra.ports import free_port
from crm.modes.local_cluster import sasl_kafka
from tests.support.chaos import ChaosBed
from tests.support.invariants import outbox_backlog
from tests.support.load import bearer
from tests.support.waiting import eventually

pytestmark = pytest.mark.connected
WRITES = 5  # customers created while the configuration is wrong
WRONG_PASSWORD = "not-the-kafka-password"


async def restart_with(bed: ChaosBed, name: str, env: dict[str, str]) -> int:
    """Restart ``name`` (SIGTERM, then start) with ``env``; returns where its log stood."""
    process = bed.cluster.processes[name]
    await asyncio.to_thread(process.stop)
    process.env = env
    offset = len(process.log_text())
    await bed.start(name)
    return offset


async def logged(bed: ChaosBed, name: str, offset: int, pattern: str) -> str:
    regex = re.compile(pattern, re.MULTILINE)

    async def found() -> str:
        match = regex.search(bed.cluster.log(name)[offset:])
        return match.group(0) if match else ""

    return await eventually(found, timeout=60, interval=0.1, what=f"{name} logging {pattern!r}")


async def writes_while_misconfigured(bed: ChaosBed, tag: str) -> int:
    """Register a user and create customers through the gateway: every answer a success."""
    async with httpx.AsyncClient(base_url=bed.cluster.gateway, timeout=20) as api:
        assert (await api.get("/health")).status_code in (200, 503)  # the gateway answers
        email, password = f"chaos-{tag}-{bed.seed}@example.com", f"Chaos-{tag}-{bed.seed}-pw1"
        body = {"email": email, "password": password, "name": email, "role": "SALES"}
        registered = await api.post("/api/auth/register", json=body)
        assert registered.status_code == 201, registered.text
        bed.ledger.users[registered.json()["user"]["id"]] = email
        bed.passwords.add(password)
        token = registered.json()["token"]
        bed.tokens.add(token)
        for i in range(WRITES):
            name = f"chaos-{tag}-{bed.seed}-{i}"
            response = await api.post("/api/customers", headers=bearer(token), json={"name": name})
            assert response.status_code == 201, response.text
            bed.ledger.customers[response.json()["id"]] = name
    return WRITES


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("wrong SASL password", r"❌ Failed to connect to Kafka: Authentication failed$"),
        ("unreachable broker", r"❌ Request timed out$"),
    ],
)
async def test_a_misconfigured_kafka_keeps_http_up_and_delivery_resumes_when_fixed(
    bed: ChaosBed, fault: str, message: str
) -> None:
    process = bed.cluster.processes["customer"]
    right = dict(process.env)
    if fault == "wrong SASL password":
        wrong = sasl_kafka(bed.broker, "plain", password=WRONG_PASSWORD)
        bed.passwords.add(WRONG_PASSWORD)
    else:
        wrong = {"KAFKA_BROKERS": f"127.0.0.1:{free_port()}"}
    offset = await restart_with(bed, "customer", {**right, **wrong, "KAFKA_REQUEST_TIMEOUT_MS": "2000"})
    try:
        line = await logged(bed, "customer", offset, message)
        written = await writes_while_misconfigured(bed, fault.split()[0])
        waiting = (await outbox_backlog({"customer": bed.dsns["customer"]}))["customer"]
        assert waiting >= written, f"only {waiting} events in customer-service's outbox"
    finally:
        await restart_with(bed, "customer", right)
    fixed = time.monotonic()
    findings = await bed.converged()
    bed.report(
        f"Kafka {fault}",
        f"customer-service restarted with a {fault}, then with the right configuration",
        findings,
        **{
            "logged": line.strip(),
            "customers accepted meanwhile": written,
            "events waiting in its outbox": waiting,
            "all delivered after the fix (s)": round(time.monotonic() - fixed, 1),
        },
    )
