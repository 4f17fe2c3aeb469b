"""``crm kafka``: provision topics, check a cluster end to end, watch events, and handle dead letters.

All commands read the guide's KAFKA_* variables (KAFKA_ENABLED is not required: these commands are how you
check a cluster before enabling it)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from crm.cli.common import err, fail, new_typer, out
from crm.contracts.topics import topic_specs
from crm.platform.bus import BusError, IncomingRecord
from crm.platform.events import Envelope, EnvelopeError
from crm.platform.settings import ConfigError, KafkaSettings, Settings

app = new_typer("Kafka: topics, doctor, tail, dead letters.")
topics_app = new_typer("The five topics and their .dlq twins.")
dlq_app = new_typer("Dead-lettered events: inspect and re-deliver.")
app.add_typer(topics_app, name="topics")
app.add_typer(dlq_app, name="dlq")
T = TypeVar("T")
SERVICE_GROUPS = [
    "auth-service",
    "customer-service",
    "sales-activity-service",
    "opportunity-service",
    "analytics-service",
]
HINTS = {
    "auth": "check KAFKA_USERNAME / KAFKA_PASSWORD and KAFKA_MECHANISM (plain, scram-sha-256, scram-sha-512)",
    "timeout": "check KAFKA_BROKERS (host and port; TLS listeners are often 9093/9094/9096) and the firewall",
    "tls": "set KAFKA_SSL_CA_FILE to your provider's CA certificate",
}


def kafka_settings() -> KafkaSettings:
    try:
        settings = Settings.from_env("cli")
    except ConfigError as exc:
        fail(str(exc))
    return dataclasses.replace(settings.kafka, client_id="crm-cli")


def run(awaitable: Awaitable[T]) -> T:
    try:
        return asyncio.run(awaitable)  # type: ignore[arg-type]
    except BusError as exc:
        fail(f"{exc}  ({_hint(str(exc))})")


def _hint(message: str) -> str:
    if "Authentication" in message:
        return HINTS["auth"]
    if "TLS" in message:
        return HINTS["tls"]
    return HINTS["timeout"]


@topics_app.command("create")
def topics_create(
    partitions: Annotated[int, typer.Option(min=1, help="partitions for new topics")] = 1,
) -> None:
    """Create the missing topics with the guide's settings (idempotent); report drift on existing ones."""
    from crm.platform.bus.topics import ensure_topics

    reports = run(ensure_topics(kafka_settings(), topic_specs(partitions)))
    for report in reports:
        status = "[green]created[/]" if report.created else "exists"
        drift = "; ".join(f"{k} is {a}, expected {e}" for k, (e, a) in report.drift.items())
        mark, note = ("⚠️ ", f"[yellow]{drift}[/]") if drift else ("✅", "")
        out.print(f"{mark} {report.name:28} {status} {note}")


@topics_app.command("list")
def topics_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The CRM's topics: present or missing, partitions, retention, max message size."""
    from crm.platform.bus.inspect import topic_states

    specs = topic_specs()
    states = run(topic_states(kafka_settings(), [s.name for s in specs]))
    if as_json:
        out.print_json(data=[dataclasses.asdict(s) for s in states])
        return
    table = Table("topic", "exists", "partitions", "retention.ms", "max.message.bytes")
    for state in states:
        configs = state.configs or {}
        table.add_row(
            state.name,
            "✅" if state.exists else "❌ missing",
            str(state.partitions or "-"),
            configs.get("retention.ms", "-"),
            configs.get("max.message.bytes", "-"),
        )
    out.print(table)


@topics_app.command("describe")
def topics_describe(topic: str) -> None:
    """Every setting of one topic."""
    from crm.platform.bus.inspect import topic_states

    (state,) = run(topic_states(kafka_settings(), [topic]))
    if not state.exists:
        fail(f"topic {topic} does not exist (run `crm kafka topics create`)")
    out.print(f"[bold]{topic}[/]: {state.partitions} partition(s)")
    for key, value in sorted((state.configs or {}).items()):
        out.print(f"  {key} = {value}")


@app.command()
def doctor(
    group: Annotated[
        list[str] | None, typer.Option(help="consumer groups to check (default: the five services)")
    ] = None,
) -> None:
    """Check the connection step by step (DNS, TCP, TLS + SASL, topics, consumer lag), with the fix for
    each failure. Exit code 1 if any check fails."""
    kafka = kafka_settings()
    failures = run(_doctor(kafka, group or SERVICE_GROUPS))
    if failures:
        raise typer.Exit(1)


async def _doctor(kafka: KafkaSettings, groups: list[str]) -> int:
    from crm.platform.bus.inspect import group_lags, topic_states
    from crm.platform.bus.kafka import describe_failure, diagnose

    failures = 0

    def check(ok: bool, label: str, hint: str = "") -> bool:
        nonlocal failures
        failures += 0 if ok else 1
        out.print(f"{'✅' if ok else '❌'} {label}" + (f"\n   ↳ {hint}" if hint and not ok else ""))
        return ok

    if not kafka.enabled:
        out.print("⏭️  KAFKA_ENABLED is not true: services skip publishing (checking the cluster anyway)")
    security = (
        "SASL_SSL"
        if kafka.sasl and kafka.ssl
        else "SSL"
        if kafka.ssl
        else "SASL_PLAINTEXT"
        if kafka.sasl
        else "PLAINTEXT"
    )
    out.print(
        f"   brokers {', '.join(kafka.brokers)} · {security}"
        + (f" · {kafka.mechanism.upper()}" if kafka.sasl else "")
    )
    for broker in kafka.brokers:
        host, _, port = broker.rpartition(":")
        try:
            await asyncio.get_running_loop().getaddrinfo(host, int(port))
        except socket.gaierror as exc:
            check(False, f"resolve {host}", f"{exc.strerror}: {HINTS['timeout']}")
            continue
        check(True, f"resolve {host}")
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout=5)
            writer.close()
        except (OSError, TimeoutError):
            check(False, f"connect {broker}", f"❌ Request timed out: {HINTS['timeout']}")
            continue
        check(True, f"connect {broker}")
    problem = await diagnose(kafka)
    if problem is not None:
        message = describe_failure(problem)
        check(False, "handshake (TLS, SASL)", f"{message}: {_hint(message)}")
        return failures
    check(
        True,
        "handshake" + (" (TLS verified)" if kafka.ssl else "") + (" (authenticated)" if kafka.sasl else ""),
    )
    specs = topic_specs(kafka.topic_partitions)
    for spec, state in zip(specs, await topic_states(kafka, [s.name for s in specs]), strict=True):
        if not state.exists:
            check(False, f"topic {spec.name}", "missing: run `crm kafka topics create` (or start a service)")
            continue
        drift = {
            k: (v, (state.configs or {}).get(k))
            for k, v in spec.configs().items()
            if (state.configs or {}).get(k) != v
        }
        check(
            not drift,
            f"topic {spec.name}",
            "; ".join(f"{k} is {a}, expected {e}" for k, (e, a) in drift.items()),
        )
    main_topics = [s.name for s in specs if not s.name.endswith(".dlq")]
    existing = [
        t for t, st in zip(main_topics, await topic_states(kafka, main_topics), strict=True) if st.exists
    ]
    for lag in await group_lags(kafka, groups, existing):
        label = f"group {lag.group} on {lag.topic}[{lag.partition}]: lag {lag.lag}"
        if lag.committed is None:
            label += " (never committed)"
        out.print(f"{'✅' if lag.lag < 1000 else '⚠️ '} {label}")
    return failures


@app.command()
def tail(
    topic: str,
    event_type: Annotated[str | None, typer.Option("--type", help="only this event type")] = None,
    from_beginning: Annotated[bool, typer.Option(help="start at the oldest retained record")] = False,
    follow: Annotated[bool, typer.Option(help="keep waiting for new records (Ctrl-C stops)")] = True,
    limit: Annotated[int, typer.Option(min=0, help="stop after this many records (0: no limit)")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """Decoded events of a topic as they arrive: key, headers, envelope and payload."""
    run(_tail(kafka_settings(), topic, event_type, from_beginning, follow, limit, as_json))


async def _tail(
    kafka: KafkaSettings,
    topic: str,
    event_type: str | None,
    beginning: bool,
    follow: bool,
    limit: int,
    as_json: bool,
) -> None:
    from crm.platform.bus.inspect import read_topic

    shown = 0
    async for record in read_topic(kafka, topic, from_beginning=beginning, follow=follow):
        view = record_view(record)
        if event_type and view.get("type") != event_type:
            continue
        if as_json:
            print(json.dumps(view, ensure_ascii=False), flush=True)
        else:
            out.print(
                f"[dim]{record.topic}[{record.partition}]@{record.offset}[/] "
                f"[bold cyan]{view.get('type', '?')}[/] key={view['key']} id={view.get('id', '-')} "
                f"source={view.get('source', '-')}"
            )
            out.print_json(data=view.get("data", view.get("raw")))
        shown += 1
        if limit and shown >= limit:
            return


def record_view(record: IncomingRecord) -> dict[str, Any]:
    """A record as a person reads it: the envelope when it is one, else the raw value and the problem."""
    headers = {k: v.decode("utf-8", "replace") for k, v in record.headers}
    view: dict[str, Any] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": record.key.decode("utf-8", "replace") if record.key else None,
        "headers": headers,
    }
    try:
        envelope = Envelope.from_record(record.topic, record.value, record.headers)
    except EnvelopeError as exc:
        view.update(raw=(record.value or b"")[:2000].decode("utf-8", "replace"), problem=str(exc))
        return view
    view.update(
        id=envelope.id,
        type=envelope.type,
        source=envelope.source,
        subject=envelope.subject,
        time=envelope.time.isoformat(),
        version=envelope.version,
        data=envelope.data,
    )
    return view


@dlq_app.command("list")
def dlq_list(
    topic: Annotated[str | None, typer.Argument(help="a topic (default: every CRM topic)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every dead-lettered record with why it was set aside."""
    from crm.platform.bus.dead_letters import collect

    found = run(collect(kafka_settings(), _dlq_topics(topic)))
    if as_json:
        out.print_json(data=[record_view(r) for r in found])
        return
    if not found:
        out.print("✅ no dead letters")
        return
    table = Table("dlq", "offset", "reason", "consumer", "original", "type", "error")
    for r in found:
        view = record_view(r)
        h = view["headers"]
        table.add_row(
            r.topic,
            str(r.offset),
            h.get("dlq_reason", "?"),
            h.get("dlq_consumer", "?"),
            f"{h.get('dlq_original_topic', '?')}@{h.get('dlq_original_offset', '?')}",
            view.get("type", "-"),
            h.get("dlq_error", "")[:80],
        )
    out.print(table)


@dlq_app.command("replay")
def dlq_replay(
    topic: Annotated[str | None, typer.Argument(help="a topic (default: every CRM topic)")] = None,
    dry_run: Annotated[bool, typer.Option(help="show what would be re-delivered")] = False,
) -> None:
    """Re-deliver dead letters to their original topics (after a fix), each once (the replay's own consumer
    group remembers what was already replayed) and for the consumer group that dead-lettered it only: the
    topic's other groups skip the copy. Consumers stay idempotent, so a replayed event that had been applied
    after all is skipped."""
    from crm.platform.bus.dead_letters import replay

    replayed = run(replay(kafka_settings(), _dlq_topics(topic), dry_run=dry_run))
    verb = "would re-deliver" if dry_run else "re-delivered"
    err.print(f"[green]✔[/] {verb} {len(replayed)} record(s)")
    for r in replayed:
        headers = dict(r.headers)
        group = headers.get("dlq_consumer", b"").decode() or "every group"
        out.print(f"  {r.topic}@{r.offset} → {headers.get('dlq_original_topic', b'?').decode()} for {group}")


def _dlq_topics(topic: str | None) -> list[str]:
    if topic is None:
        return [s.name for s in topic_specs() if s.name.endswith(".dlq")]
    return [topic if topic.endswith(".dlq") else f"{topic}.dlq"]
