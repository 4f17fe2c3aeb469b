"""``crm kafka budget``: Kafka messages produced and consumed today and this month against the provider's
quota (default: the guide's free tier), and what each action costs, as in the guide's cost section.

Counted from Kafka itself, so it covers every process of the cluster: produced = each partition's end offset
minus its offset at the start of the UTC day / month (``offsets_for_times``); consumed = for each consumer
group, how far its committed offset has gone past that start. A provider meters both directions (every record
written, and every record each consumer group reads), so their sum is what is compared with the quota.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from crm.cli.common import fail, out
from crm.platform.bus.kafka import MAX_MESSAGE_BYTES
from crm.platform.settings import ConfigError, KafkaSettings, Settings

GUIDE_DAILY_QUOTA, GUIDE_MONTHLY_QUOTA = 1_000, 10_000
# The guide's cost section: "registration: 1 event x 3 consumers", "customer: 1 x 2", "deal / task: 1 x 2".
GUIDE_ACTIONS = {
    "USER_CREATED": "register a user",
    "CUSTOMER_CREATED": "create a customer",
    "OPPORTUNITY_CREATED": "create a deal",
    "TASK_CREATED": "create a task",
    "MEETING_CREATED": "create a meeting",
}


@dataclass
class TopicUsage:
    topic: str
    exists: bool = True
    produced_today: int = 0
    produced_month: int = 0
    consumed_today: int = 0
    consumed_month: int = 0
    # False when retention already deleted records of this month: the month's figures are then a lower bound.
    month_complete: bool = True
    consumed_by: dict[str, int] = field(default_factory=dict)  # group -> records of today it consumed


@dataclass
class Projection:
    event_type: str
    topic: str
    action: str | None
    handled_by: list[str]  # services with a handler for the type (the guide's "consumers")
    read_by: list[str]  # consumer groups subscribed to its topic: each reads every record of it
    guide_messages: int  # the guide's formula: 1 event x consumers
    metered_messages: int  # what a provider counts: 1 produced + 1 per group reading the topic


async def measure(
    kafka: KafkaSettings, topics: Sequence[str], groups: Sequence[str], now: datetime
) -> list[TopicUsage]:
    """Usage per topic since the start of ``now``'s UTC day and month. Raises BusError if unreachable."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from crm.platform.bus import BusError
    from crm.platform.bus.inspect import group_lags, topic_states
    from crm.platform.bus.kafka import client_options, explain

    day_ms = int(now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)
    month_ms = int(now.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)
    states = await topic_states(kafka, topics)
    usage = {s.name: TopicUsage(s.name, exists=s.exists) for s in states}
    partitions = [TopicPartition(s.name, p) for s in states if s.exists for p in range(s.partitions)]
    if not partitions:
        return list(usage.values())
    consumer = AIOKafkaConsumer(**client_options(kafka), group_id=None, enable_auto_commit=False)
    try:
        await consumer.start()
    except Exception as exc:
        with contextlib.suppress(Exception):
            await consumer.stop()
        raise BusError(await explain(kafka, exc)) from exc
    try:
        ends = await consumer.end_offsets(partitions)
        begins = await consumer.beginning_offsets(partitions)
        day_found = await consumer.offsets_for_times({tp: day_ms for tp in partitions})
        month_found = await consumer.offsets_for_times({tp: month_ms for tp in partitions})
    finally:
        await consumer.stop()
    day_start: dict[tuple[str, int], int] = {}
    month_start: dict[tuple[str, int], int] = {}
    for tp in partitions:
        end, begin = ends[tp], begins[tp]
        day, month = day_found.get(tp), month_found.get(tp)
        day_start[(tp.topic, tp.partition)] = day.offset if day is not None else end
        month_start[(tp.topic, tp.partition)] = first = month.offset if month is not None else end
        topic = usage[tp.topic]
        topic.produced_today += end - day_start[(tp.topic, tp.partition)]
        topic.produced_month += end - first
        if first == begin and begin > 0 and end > begin:
            topic.month_complete = False  # the records before `begin` are gone: were they this month's?
    existing = [t for t in topics if usage[t].exists]
    for lag in await group_lags(kafka, groups, existing):
        if lag.committed is None:
            continue
        key = (lag.topic, lag.partition)
        if key not in day_start:
            continue
        today = max(0, lag.committed - day_start[key])
        topic = usage[lag.topic]
        topic.consumed_today += today
        topic.consumed_month += max(0, lag.committed - month_start[key])
        if today:
            topic.consumed_by[lag.group] = topic.consumed_by.get(lag.group, 0) + today
    return list(usage.values())


def projections() -> list[Projection]:
    """Messages per event, from the event catalog and the services' ``EVENT_HANDLERS``."""
    from crm.contracts import CATALOG, topic_of
    from crm.modes.services import SERVICES

    found = []
    for event_type, spec in CATALOG.items():
        topic = spec.topic.value
        handled = [
            f"{n.replace('_', '-')}-service" for n, s in SERVICES.items() if s.handlers.get(event_type)
        ]
        read = [
            f"{n.replace('_', '-')}-service"
            for n, s in SERVICES.items()
            if topic in s.consumed_topics(topic_of)
        ]
        found.append(
            Projection(
                event_type.value,
                topic,
                GUIDE_ACTIONS.get(event_type.value),
                handled,
                read,
                guide_messages=len(handled),
                metered_messages=1 + len(read),
            )
        )
    return found


def report(
    usage: Sequence[TopicUsage], daily: int, monthly: int, now: datetime, groups: Sequence[str]
) -> dict[str, Any]:
    """The whole answer as plain data (what ``--json`` prints)."""

    def period(produced: int, consumed: int, quota: int) -> dict[str, Any]:
        total = produced + consumed
        return {
            "produced": produced,
            "consumed": consumed,
            "total": total,
            "quota": quota,
            "percent": round(total * 100 / quota, 1),
        }

    today = period(sum(u.produced_today for u in usage), sum(u.consumed_today for u in usage), daily)
    month = period(sum(u.produced_month for u in usage), sum(u.consumed_month for u in usage), monthly)
    month["complete"] = all(u.month_complete for u in usage)
    return {
        "now": now.isoformat(timespec="seconds"),
        "day": now.date().isoformat(),
        "month_of": now.strftime("%Y-%m"),
        "quota": {"daily": daily, "monthly": monthly, "max_message_bytes": MAX_MESSAGE_BYTES},
        "today": today,
        "month": month,
        "groups": list(groups),
        "topics": [asdict(u) for u in usage],
        "projection": [asdict(p) for p in projections()],
    }


def budget(
    as_json: Annotated[bool, typer.Option("--json", help="one JSON document, for scripts")] = False,
    group: Annotated[
        list[str] | None,
        typer.Option(
            help="consumer groups counted as consumers (default: the five services and the DLQ replay)"
        ),
    ] = None,
    daily_quota: Annotated[
        int | None, typer.Option(min=1, help="messages a day (default: $KAFKA_DAILY_QUOTA or 1,000)")
    ] = None,
    monthly_quota: Annotated[
        int | None, typer.Option(min=1, help="messages a month (default: $KAFKA_MONTHLY_QUOTA or 10,000)")
    ] = None,
    actions_per_day: Annotated[int, typer.Option(min=1, help="actions a day, for the projection")] = 100,
) -> None:
    """Kafka messages produced and consumed today and this month (UTC) against the quota, and what each
    action costs: the guide's free tier (1,000 a day, 10,000 a month, 1 MB a message) unless configured."""
    from crm.cli.kafka import SERVICE_GROUPS, kafka_settings, run
    from crm.contracts.topics import topic_specs
    from crm.platform.bus.dead_letters import REPLAY_GROUP

    try:
        env = Settings.from_env("cli").env
        daily = daily_quota or env.number("KAFKA_DAILY_QUOTA", GUIDE_DAILY_QUOTA, minimum=1)
        monthly = monthly_quota or env.number("KAFKA_MONTHLY_QUOTA", GUIDE_MONTHLY_QUOTA, minimum=1)
    except ConfigError as exc:
        fail(str(exc))
    groups = group or [*SERVICE_GROUPS, REPLAY_GROUP]
    now = datetime.now(UTC)
    topics = [s.name for s in topic_specs()]
    usage = run(measure(kafka_settings(), topics, groups, now))
    data = report(usage, daily, monthly, now, groups)
    if as_json:
        out.print_json(data=data)
        return
    _print(data, actions_per_day)


def _print(data: dict[str, Any], actions_per_day: int) -> None:
    today, month = data["today"], data["month"]
    out.print(f"[bold]Kafka message budget[/] · today {data['day']} · month {data['month_of']} (UTC)")
    summary = Table("", "produced", "consumed", "total", "quota", "used")
    for label, figures in (("today", today), ("this month", month)):
        lower_bound = "≥ " if label == "this month" and not month["complete"] else ""
        colour = "red" if figures["percent"] >= 100 else "yellow" if figures["percent"] >= 80 else "green"
        summary.add_row(
            label,
            f"{lower_bound}{figures['produced']:,}",
            f"{lower_bound}{figures['consumed']:,}",
            f"{lower_bound}{figures['total']:,}",
            f"{figures['quota']:,}",
            f"[{colour}]{figures['percent']}%[/]",
        )
    out.print(summary)
    topics = Table("topic", "produced today", "consumed today", "produced month", "consumed month")
    for topic in data["topics"]:
        if not topic["exists"]:
            topics.add_row(topic["topic"], "[dim]missing[/]", "", "", "")
            continue
        if not any(
            topic[k] for k in ("produced_today", "consumed_today", "produced_month", "consumed_month")
        ):
            continue
        mark = "" if topic["month_complete"] else "≥ "
        topics.add_row(
            topic["topic"],
            f"{topic['produced_today']:,}",
            f"{topic['consumed_today']:,}",
            f"{mark}{topic['produced_month']:,}",
            f"{mark}{topic['consumed_month']:,}",
        )
    if topics.row_count:
        out.print(topics)
    if not month["complete"]:
        out.print("[dim]≥: retention (7 days) already deleted some of this month's records[/]")
    projection = Table(title="Projection per action (the guide's cost section)")
    projection.add_column("event · action", no_wrap=True)
    projection.add_column("handled by", overflow="fold")
    projection.add_column("guide", justify="right")
    projection.add_column("metered", justify="right")
    projection.add_column(f"× {actions_per_day}/day", justify="right", no_wrap=True)
    daily = data["quota"]["daily"]
    for row in data["projection"]:
        if not row["action"]:
            continue
        per_day = row["metered_messages"] * actions_per_day
        projection.add_row(
            f"{row['event_type']}\n[dim]{row['action']}[/]",
            ", ".join(h.removesuffix("-service") for h in row["handled_by"]) or "—",
            str(row["guide_messages"]),
            str(row["metered_messages"]),
            f"{per_day:,} ({per_day * 100 // daily}%)",
        )
    out.print(projection)
    out.print(
        "[dim]guide: 1 event × the services handling it. metered: what a provider counts, 1 record written + "
        "1 read per consumer group on its topic (a group reads every record of its topics, handled or not). "
        "An action's follow-ups are rows of their own (a registration also causes CUSTOMER_CREATED and the "
        "first-contact TASK_CREATED); every event type is in --json.[/]"
    )
