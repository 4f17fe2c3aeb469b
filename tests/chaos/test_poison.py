"""Poison on every topic (bad JSON, an unknown type, a wrong schema version, a ~1 MB payload): each consumer
that reads it dead-letters it once with the reason in headers and keeps going; and a good event that failed
for a cause since fixed is re-delivered by ``crm kafka dlq replay`` and applied exactly once."""

from __future__ import annotations

import asyncio
import os
import sys

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from crm.contracts import Topic, topic_of
from crm.platform.events import Envelope
from tests.support.chaos import ChaosBed
from tests.support.invariants import CONSUMERS, Poison, group_of, read_all
from tests.support.waiting import eventually

pytestmark = pytest.mark.connected
ONE_MB = 1_040_000  # just under the topics' max.message.bytes (1,048,576) once headers are added
VERSIONED = {  # per topic, a type whose consumers all check the payload's version
    Topic.USER: "USER_CREATED",
    Topic.CUSTOMER: "CUSTOMER_CREATED",
    Topic.SALES_ACTIVITY: "TASK_CREATED",
    Topic.OPPORTUNITY: "APPROVAL_STATUS_CHANGED",
    Topic.NOTIFICATION: "APPROVAL_RESULT",
}
BUG = """
CREATE OR REPLACE FUNCTION chaos_bug() RETURNS trigger AS $$
BEGIN
  IF NEW.name LIKE 'chaos-bug-%' THEN RAISE EXCEPTION 'chaos: an injected bug refuses %', NEW.name; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER chaos_bug BEFORE INSERT ON customers FOR EACH ROW EXECUTE FUNCTION chaos_bug();
"""


def readers(topic: str, event_type: str | None = None) -> frozenset[str]:
    """The consumer groups that read ``topic`` (and handle ``event_type``, when given)."""
    return frozenset(
        group_of(service)
        for service, handlers in CONSUMERS.items()
        if topic in {topic_of(t) for t in handlers} and (event_type is None or event_type in handlers)
    )


def poison_for(topic: str, marker: str) -> list[Poison]:
    def envelope(event_type: str, version: int = 1) -> bytes:
        return Envelope(event_type, "chaos", marker, {"marker": marker}, topic, version).to_json()

    every = readers(topic)
    versioned = VERSIONED[Topic(topic)]
    return [
        Poison(
            topic,
            b'{"id": "' + marker.encode() + b'", not json',
            every,
            "bad JSON",
            reason="invalid-envelope",
        ),
        Poison(topic, envelope("CHAOS_UNKNOWN_TYPE"), every, "an unknown type", reason="unknown-type"),
        Poison(
            topic,
            envelope(versioned, 99),
            readers(topic, versioned),
            f"{versioned} v99",
            reason="invalid-payload",
        ),
        Poison(
            topic,
            b"\xff" + marker.encode() + b"x" * ONE_MB,
            every,
            "a ~1 MB payload",
            reason="invalid-envelope",
        ),
    ]


async def produce(bootstrap: str, poison: list[Poison]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=2_000_000)
    await producer.start()
    try:
        for p in poison:
            await producer.send_and_wait(p.topic, p.value, key=b"chaos-poison")
    finally:
        await producer.stop()


async def dead_letters(bed: ChaosBed) -> int:
    return len(await read_all(bed.bootstrap, [f"{t.value}.dlq" for t in Topic]))


async def refused_by_the_bug(bed: ChaosBed) -> list:
    letters = await read_all(bed.bootstrap, ["user.events.dlq"])
    return [r for r in letters if dict(r.headers).get("dlq_reason") == b"handler-failed"]


async def replay(bed: ChaosBed, topic: str) -> str:
    env = {**os.environ, "KAFKA_ENABLED": "true", "KAFKA_BROKERS": bed.bootstrap}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crm", "kafka", "dlq", "replay", topic,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return output.decode()


async def test_poison_is_dead_lettered_and_replay_redelivers_after_a_fix(bed: ChaosBed) -> None:
    marker = f"chaos-poison-{bed.seed}"
    injected = [p for t in Topic for p in poison_for(t.value, f"{marker}-{t.value}")]
    await produce(bed.bootstrap, injected)
    bed.poison += injected

    # A good event that customer-service cannot apply because of a bug (a trigger refusing the row).
    customer_db = await asyncpg.connect(bed.dsns["customer"])
    try:
        await customer_db.execute(BUG)
        async with httpx.AsyncClient(base_url=bed.cluster.gateway, timeout=20) as api:
            email, password = f"chaos-bug-{bed.seed}@example.com", f"Chaos-bug-{bed.seed}-pw1"
            body = {"email": email, "password": password, "name": f"chaos-bug-{bed.seed}", "role": "USER"}
            response = await api.post("/api/auth/register", json=body)
        assert response.status_code == 201, response.text
        user = response.json()["user"]
        bed.ledger.users[user["id"]] = email
        bed.passwords.add(password)
        bed.tokens.add(response.json()["token"])

        expected = sum(len(p.groups) for p in injected) + 1  # + the refused USER_CREATED

        async def all_dead_lettered() -> bool:
            return await dead_letters(bed) >= expected and bool(await refused_by_the_bug(bed))

        await bed.load()  # the consumers keep going past the poison
        await eventually(all_dead_lettered, timeout=90, interval=0.5, what=f"{expected} dead letters")
        (refused,) = await refused_by_the_bug(bed)
        assert b"chaos: an injected bug" in dict(refused.headers)["dlq_error"]
    finally:
        await customer_db.execute("DROP TRIGGER IF EXISTS chaos_bug ON customers")  # the fix
        await customer_db.close()
        output = await replay(bed, "user.events")  # even after a failure: later tests share the bed

    good = Poison(
        "user.events",
        refused.value or b"",
        frozenset({"customer-service"}),
        "refused",
        True,
        "handler-failed",
    )
    bed.poison.append(good)
    # each dead letter of it is re-delivered to the one group that dead-lettered it, which does so again
    bed.poison += [p for p in injected if p.topic == "user.events"]
    findings = await bed.converged()
    bed.report(
        "poison",
        f"{len(injected)} poison records ({', '.join(p.what for p in injected[:4])} on each topic), "
        "a USER_CREATED refused by a bug, then the fix and `crm kafka dlq replay user.events`",
        findings,
        **{"dead letters re-delivered by the replay": output.count("→")},
    )
