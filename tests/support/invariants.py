"""The invariants of "no event is ever lost or applied twice", checked from the services' databases and the
topics after a load (see tests/support/load.py):

- every accepted write exists, once (no retried write doubled);
- every event a row implies is on its topic once (one event id; copies of the same id, from a relay that
  crashed between publishing and deleting its row, are counted as redeliveries, which the inbox absorbs);
- every consumer applied every event it handles (its inbox holds the id);
- every side effect happened exactly once: a customer per user, a first-contact task per customer, a
  follow-up task and a notification per decided approval, analytics' counts equal to the events;
- no outbox holds a row; the dead-letter topics hold exactly the poison records that were injected."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from crm.contracts import Topic, topic_of
from crm.platform.bus import IncomingRecord
from crm.platform.bus.inspect import group_lags
from crm.platform.events import Envelope, EnvelopeError
from crm.platform.settings import KafkaSettings
from crm.services.analytics.handlers import EVENT_HANDLERS as ANALYTICS
from crm.services.customer.handlers import EVENT_HANDLERS as CUSTOMER
from crm.services.opportunity.handlers import EVENT_HANDLERS as OPPORTUNITY
from crm.services.sales_activity.handlers import EVENT_HANDLERS as SALES_ACTIVITY
from tests.support.load import Ledger

TOPICS = [t.value for t in Topic]
CONSUMERS = {"customer": CUSTOMER, "sales_activity": SALES_ACTIVITY, "opportunity": OPPORTUNITY}
CONSUMERS["analytics"] = ANALYTICS
SERVICES = ["auth", "customer", "sales_activity", "opportunity", "analytics"]


def group_of(service: str) -> str:
    """The consumer group of a service: its KAFKA_CLIENT_ID, as the six-process setup sets it."""
    return f"{service.replace('_', '-')}-service"


def fingerprint(value: bytes | None) -> str:
    return hashlib.sha256(value or b"").hexdigest()[:16]


@dataclass(frozen=True)
class Poison:
    """A record injected on ``topic`` that the consumers in ``groups`` must each dead-letter once."""

    topic: str
    value: bytes
    groups: frozenset[str]
    what: str
    applies: bool = False  # a good event that failed for a cause since fixed: once replayed, it must apply
    reason: str = ""  # the dlq_reason header each of its dead letters must carry


@dataclass
class Findings:
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def __bool__(self) -> bool:  # truthy when everything holds (for ``eventually``)
        return not self.problems

    def summary(self) -> str:
        c = self.counts
        return (
            f"events {c['events']}, redelivered copies {c['copies']}, deliveries checked {c['deliveries']}, "
            f"side effects {c['side effects']}, dead letters {c['dead letters']}, "
            f"duplicates found: {c['duplicates']}, lost: {c['lost']}"
        )


async def read_all(bootstrap: str, topics: Iterable[str]) -> list[IncomingRecord]:
    """Every record of ``topics`` from the beginning to the end offsets of now (no consumer group)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,  # a ~1 MB record plus its dead-letter headers
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or {0})
        ]
        consumer.assign(partitions)
        starts = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        found: list[IncomingRecord] = []
        remaining = {tp for tp in partitions if ends[tp] > 0}
        give_up = time.monotonic() + 30
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=500, max_records=2000)
            for (
                tp,
                records,
            ) in batches.items():  # up to the ends of now: later records wait for the next check
                found += [
                    IncomingRecord(r.topic, r.partition, r.offset, r.key, r.value, list(r.headers))
                    for r in records
                    if r.offset < ends[tp]
                ]
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
            if remaining and time.monotonic() > give_up:
                raise AssertionError(f"could not read {sorted(map(str, remaining))} to their ends")
        read = Counter((r.topic, r.partition) for r in found)
        for tp in partitions:  # no record skipped (a compacted or truncated log would show here)
            if read[(tp.topic, tp.partition)] != ends[tp] - starts[tp]:
                raise AssertionError(
                    f"read {read[(tp.topic, tp.partition)]} records of {tp}, it holds {ends[tp] - starts[tp]}"
                )
        return found
    finally:
        await consumer.stop()


async def _rows(dsn: str, sql: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        return list(await connection.fetch(sql))
    finally:
        await connection.close()


async def outbox_backlog(dsns: Mapping[str, str]) -> dict[str, int]:
    counts = await asyncio.gather(*(_rows(dsn, "SELECT count(*) AS n FROM outbox") for dsn in dsns.values()))
    return {name: rows[0]["n"] for name, rows in zip(dsns, counts, strict=True)}


async def delivered(dsns: Mapping[str, str], bootstrap: str) -> bool:
    """Cheap: no outbox row waits and every consumer group has committed the end of each topic it reads
    (taken twice around the outboxes, so an event published in between is not missed). Each look at the
    groups is one admin client and one consumer for all of them: on a loaded machine a client's start takes
    a good fraction of a second, and a slow check would overstate how long delivery took."""
    kafka = KafkaSettings(enabled=True, brokers=(bootstrap,))
    reads = {group_of(service): {topic_of(t) for t in handlers} for service, handlers in CONSUMERS.items()}
    topics = sorted(set().union(*reads.values()))

    async def caught_up() -> bool:
        lags = await group_lags(kafka, list(reads), topics)
        return not any(g.lag for g in lags if g.topic in reads[g.group])

    return await caught_up() and not any((await outbox_backlog(dsns)).values()) and await caught_up()


async def check(
    ledger: Ledger, dsns: Mapping[str, str], bootstrap: str, poison: Iterable[Poison] = ()
) -> Findings:
    """Every invariant above; ``Findings`` lists what does not hold (empty: all hold)."""
    found = Findings()
    for name, pending in (await outbox_backlog(dsns)).items():
        if pending:
            found.problem(f"{pending} event(s) stuck in {name}'s outbox")
    records = await read_all(bootstrap, TOPICS)
    poison = list(poison)
    injected = {fingerprint(p.value) for p in poison if not p.applies}
    events: dict[str, Envelope] = {}
    for record in records:
        if fingerprint(record.value) in injected:
            found.counts["poison"] += 1
            continue
        try:
            envelope = Envelope.from_record(record.topic, record.value, record.headers)
        except EnvelopeError:
            found.problem(f"an undecodable record nobody injected at {record.topic}@{record.offset}")
            continue
        if envelope.id in events:
            found.counts["copies"] += 1
        events[envelope.id] = envelope
    found.counts["events"] = len(events)
    by_type: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for envelope in events.values():
        by_type[envelope.type][envelope.subject].append(envelope.id)

    db = await _database_truth(dsns)
    _accepted_writes_exist_once(ledger, db, found)
    _one_event_per_fact(db, by_type, found)
    await _every_consumer_applied_every_event(dsns, events, found)
    _side_effects_once(db, by_type, found)
    await _dead_letters_are_the_injected_ones(bootstrap, poison, found)
    return found


async def _database_truth(dsns: Mapping[str, str]) -> dict[str, list[asyncpg.Record]]:
    queries = {
        "users": ("auth", "SELECT id, email, deleted_at FROM users"),
        "customers": ("customer", "SELECT id, name, source_user_id, deleted_at FROM customers"),
        "tasks": ("sales_activity", "SELECT id, title, kind, origin_key, customer_id FROM tasks"),
        "meetings": ("sales_activity", "SELECT id, title FROM meetings"),
        "deals": ("opportunity", "SELECT id, name FROM opportunities"),
        "approvals": ("opportunity", "SELECT id, title, status FROM approvals"),
        "notifications": ("analytics", "SELECT kind, subject_id, source_event_id FROM notifications"),
        "counts": ("analytics", "SELECT event_type, sum(count) AS n FROM event_counts GROUP BY 1"),
    }
    return {key: await _rows(dsns[service], sql) for key, (service, sql) in queries.items()}


def _accepted_writes_exist_once(ledger: Ledger, db: Mapping[str, list], found: Findings) -> None:
    # a deleted user's address is freed (rewritten), so a deleted row counts under the address it had
    users = [
        {"id": r["id"], "email": ledger.users.get(r["id"], r["email"]) if r["deleted_at"] else r["email"]}
        for r in db["users"]
    ]
    kinds = [
        ("users", ledger.users, "email", users),
        ("customers", ledger.customers, "name", [r for r in db["customers"] if r["source_user_id"] is None]),
        ("meetings", ledger.meetings, "title", db["meetings"]),
        ("tasks", ledger.tasks, "title", [r for r in db["tasks"] if r["kind"] == "manual"]),
        ("deals", ledger.deals, "name", db["deals"]),
        ("approvals", ledger.approvals, "title", db["approvals"]),
    ]
    for kind, accepted, column, rows in kinds:
        ids = {r["id"] for r in rows}
        copies = Counter(r[column] for r in rows)
        for id_, marker in accepted.items():
            if id_ not in ids:
                found.counts["lost"] += 1
                found.problem(f"accepted {kind[:-1]} {id_} ({marker}) is not in the database")
            elif copies[marker] != 1:
                found.counts["duplicates"] += 1
                found.problem(f"{kind[:-1]} {marker} exists {copies[marker]} times")
    status = {r["id"]: r["status"] for r in db["approvals"]}
    for approval, decision in ledger.decisions.items():
        if status.get(approval) != decision:
            found.problem(f"approval {approval} decided {decision} but is {status.get(approval)}")
    deleted = {r["id"] for r in db["customers"] if r["deleted_at"] is not None}
    for customer in ledger.deleted_customers - deleted:
        found.problem(f"customer {customer} was deleted (204) but is not")
    gone = {r["id"] for r in db["users"] if r["deleted_at"] is not None}
    for user in ledger.deleted_users - gone:
        found.problem(f"user {user} was deleted (204) but is not")


def _one_event_per_fact(
    db: Mapping[str, list], by_type: Mapping[str, Mapping[str, list[str]]], found: Findings
) -> None:
    """Each row that implies an event has exactly one event id for it, and no event lacks its row."""
    decided = {r["id"] for r in db["approvals"] if r["status"] in ("APPROVED", "REJECTED")}
    facts = {
        "USER_CREATED": {r["id"] for r in db["users"]},
        "USER_DELETED": {r["id"] for r in db["users"] if r["deleted_at"] is not None},
        "CUSTOMER_CREATED": {r["id"] for r in db["customers"]},
        "CUSTOMER_DELETED": {r["id"] for r in db["customers"] if r["deleted_at"] is not None},
        "TASK_CREATED": {r["id"] for r in db["tasks"]},
        "MEETING_CREATED": {r["id"] for r in db["meetings"]},
        "OPPORTUNITY_CREATED": {r["id"] for r in db["deals"]},
        "APPROVAL_REQUESTED": {r["id"] for r in db["approvals"]},
        "APPROVAL_STATUS_CHANGED": {r["id"] for r in db["approvals"] if r["status"] != "PENDING"},
        "APPROVAL_RESULT": decided,
    }
    for event_type, subjects in facts.items():
        published = by_type.get(event_type, {})
        for subject in subjects - set(published):
            found.counts["lost"] += 1
            found.problem(f"{event_type} for {subject} was never published")
        for subject in set(published) - subjects:
            found.problem(f"{event_type} for {subject} was published but no row says so")
        for subject, ids in published.items():
            if len(ids) > 1:
                found.counts["duplicates"] += 1
                found.problem(f"{event_type} for {subject} published {len(ids)} times with distinct ids")


async def _every_consumer_applied_every_event(
    dsns: Mapping[str, str], events: Mapping[str, Envelope], found: Findings
) -> None:
    for service, handlers in CONSUMERS.items():
        group = group_of(service)
        rows = await _rows(dsns[service], f"SELECT event_id FROM inbox WHERE consumer = '{group}'")  # noqa: S608
        applied = {r["event_id"] for r in rows}
        expected = {e.id for e in events.values() if e.type in handlers and e.version == 1}
        found.counts["deliveries"] += len(expected)
        for event_id in expected - applied:
            found.counts["lost"] += 1
            found.problem(f"{service} never applied {events[event_id].type} {event_id}")


def _side_effects_once(
    db: Mapping[str, list], by_type: Mapping[str, Mapping[str, list[str]]], found: Findings
) -> None:
    def exactly_once(what: str, wanted: set[str], made: Counter[str]) -> None:
        found.counts["side effects"] += len(wanted)
        for key in wanted:
            if made[key] != 1:
                found.counts["lost" if made[key] == 0 else "duplicates"] += 1
                found.problem(f"{what} for {key}: {made[key]} (expected 1)")
        for key in set(made) - wanted:
            found.problem(f"{what} for {key} that should not exist: {made[key]}")

    users = {r["id"] for r in db["users"]}
    exactly_once(
        "customer of user",
        users,
        Counter(r["source_user_id"] for r in db["customers"] if r["source_user_id"]),
    )
    customers = {r["id"] for r in db["customers"]}
    tasks = db["tasks"]
    exactly_once(
        "first-contact task",
        customers,
        Counter(r["customer_id"] for r in tasks if r["kind"] == "first_contact"),
    )
    decided = {r["id"] for r in db["approvals"] if r["status"] in ("APPROVED", "REJECTED")}
    follow_ups = Counter(r["origin_key"].split(":", 1)[1] for r in tasks if r["kind"] == "follow_up")
    exactly_once("follow-up task", decided, follow_ups)
    notes = Counter(r["subject_id"] for r in db["notifications"] if r["kind"] == "APPROVAL_RESULT")
    exactly_once("approval notification", decided, notes)
    due_soon = set(by_type.get("TASK_DUE_SOON", {}))
    exactly_once(
        "due-soon notification",
        due_soon,
        Counter(r["subject_id"] for r in db["notifications"] if r["kind"] == "TASK_DUE_SOON"),
    )
    counted = {r["event_type"]: int(r["n"]) for r in db["counts"]}
    for event_type, subjects in by_type.items():
        published = sum(len(ids) for ids in subjects.values())
        found.counts["side effects"] += 1
        if counted.get(event_type, 0) != published:
            kind = "lost" if counted.get(event_type, 0) < published else "duplicates"
            found.counts[kind] += 1
            found.problem(
                f"analytics counts {counted.get(event_type, 0)} {event_type}, the topics hold {published}"
            )


async def _dead_letters_are_the_injected_ones(bootstrap: str, poison: list[Poison], found: Findings) -> None:
    letters = await read_all(bootstrap, [f"{t}.dlq" for t in TOPICS])
    have = Counter(
        (
            dict(r.headers).get("dlq_original_topic", b"").decode(),
            fingerprint(r.value),
            dict(r.headers).get("dlq_consumer", b"").decode(),
        )
        for r in letters
    )
    want = Counter((p.topic, fingerprint(p.value), g) for p in poison for g in p.groups)
    found.counts["dead letters"] = sum(have.values())
    what = {fingerprint(p.value): p.what for p in poison}
    for key in want - have:
        found.problem(f"{what.get(key[1], key[1])} on {key[0]} was not dead-lettered by {key[2]}")
    for key in have - want:
        found.problem(f"an unexpected dead letter from {key[2]} on {key[0]} ({what.get(key[1], key[1])})")
    reasons = {fingerprint(p.value): p.reason for p in poison}
    for record in letters:
        reason = dict(record.headers).get("dlq_reason", b"").decode()
        wanted = reasons.get(fingerprint(record.value))
        if not reason or (wanted and reason != wanted):
            found.problem(
                f"dead letter {record.topic}@{record.offset}: reason {reason!r}, expected {wanted!r}"
            )
