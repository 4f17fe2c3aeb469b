"""Observability pieces on their own: W3C trace context, spans (plain and OpenTelemetry), JSON log lines, the
HTTP middleware's metrics and headers, and the per-process Kafka message budget with its warning."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from crm.platform import logs, metrics
from crm.platform.logs import configure_logging, event_context, register_secrets, service_logger
from crm.platform.settings import ConfigError, EnvReader
from crm.platform.tracing import (
    TraceContext,
    Tracer,
    current_trace,
    current_traceparent,
    parse_traceparent,
    tracer_from_env,
)
from crm.platform.web import ObservabilityMiddleware

W3C_EXAMPLE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def samples(name: str, **labels: str) -> list[float]:
    """Values of ``name`` series (the full sample name) whose labels include ``labels``."""
    text = generate_latest(metrics.REGISTRY).decode()
    return [
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]


# --- trace context ------------------------------------------------------------------------------------------


def test_traceparent_is_parsed_as_the_w3c_spec_says() -> None:
    context = parse_traceparent(W3C_EXAMPLE)
    assert context == TraceContext("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", True)
    assert context.traceparent == W3C_EXAMPLE
    assert parse_traceparent(W3C_EXAMPLE.encode()) == context
    assert parse_traceparent(W3C_EXAMPLE[:-2] + "00") == TraceContext(
        context.trace_id, context.span_id, False
    )
    # A future version may append fields; version 00 may not.
    assert parse_traceparent("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra") is not None
    for bad in (
        None,
        "",
        "garbage",
        W3C_EXAMPLE + "-extra",
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  # forbidden version
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",  # all-zero trace id
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",  # all-zero span id
        "00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01",  # short trace id
        "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01",  # not hex
    ):
        assert parse_traceparent(bad) is None, bad


def test_a_span_continues_its_parents_trace_and_is_current_while_it_runs() -> None:
    tracer = Tracer("test-service")
    parent = parse_traceparent(W3C_EXAMPLE)
    assert current_trace.get() is None
    with tracer.span("work", parent=parent) as span:
        assert span.context.trace_id == parent.trace_id and span.context.span_id != parent.span_id
        assert current_traceparent() == span.context.traceparent
        with tracer.span("child", parent=current_trace.get()) as child:
            assert child.context.trace_id == parent.trace_id
    assert current_trace.get() is None
    with tracer.span("root") as root:
        assert root.context.trace_id != parent.trace_id and len(root.context.trace_id) == 32


def test_tracing_stays_off_without_otel_variables_and_names_a_bad_exporter() -> None:
    assert not tracer_from_env("s", EnvReader({})).exporting
    assert not tracer_from_env("s", EnvReader({"OTEL_TRACES_EXPORTER": "none"})).exporting
    assert not tracer_from_env(
        "s", EnvReader({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"})
    ).exporting
    with pytest.raises(ConfigError, match="OTEL_TRACES_EXPORTER"):
        tracer_from_env("s", EnvReader({"OTEL_TRACES_EXPORTER": "zipkin"}))
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_PROTOCOL"):
        tracer_from_env(
            "s",
            EnvReader({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "x"}),
        )
    otlp = tracer_from_env("s", EnvReader({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}))
    assert otlp.exporting
    otlp.provider.shutdown()


def test_opentelemetry_spans_share_the_w3c_trace_and_link_parent_and_child() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = Tracer("customer-service", provider)
    parent = parse_traceparent(W3C_EXAMPLE)
    with tracer.span("user.events process", kind="consumer", parent=parent) as span:
        published = tracer.begin("customer.events publish", kind="producer", parent=current_trace.get())
        published.end()
        with pytest.raises(RuntimeError), tracer.span("handler"):
            raise RuntimeError("boom")
    by_name = {s.name: s for s in exporter.get_finished_spans()}
    consumer, producer, failed = (
        by_name["user.events process"],
        by_name["customer.events publish"],
        by_name["handler"],
    )
    assert f"{consumer.context.trace_id:032x}" == parent.trace_id == span.context.trace_id
    assert f"{consumer.parent.span_id:016x}" == parent.span_id, "a child of the remote parent"
    assert producer.parent.span_id == consumer.context.span_id
    assert not failed.status.is_ok and failed.events[0].name == "exception"


# --- logs ---------------------------------------------------------------------------------------------------


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("crm-test", fmt="json", stream=stream)
    yield stream
    logs.remove_handler()
    logs.access_level = logging.DEBUG


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_service_request_trace_and_event_and_stay_scrubbed(json_log: io.StringIO) -> None:
    register_secrets(["pa55-w0rd-in-a-url"])
    log = service_logger("crm.test", "customer-service")
    log.info("plain line")
    trace = parse_traceparent(W3C_EXAMPLE)
    token = logs.request_id_var.set("req-1")
    with event_context(trace, "event-1", "USER_CREATED"):
        log.info("📥 Event received: %s from topic %s", "USER_CREATED", "user.events")
        logging.getLogger("crm.other").warning("kafka://u:pa55-w0rd-in-a-url@host")
    logs.request_id_var.reset(token)
    plain, received, other = lines(json_log)
    keys = {"time", "level", "service", "logger", "message", "request_id", "trace_id", "span_id", "event_id"}
    assert keys <= set(plain) and plain["service"] == "customer-service"
    assert plain["trace_id"] is None and plain["request_id"] is None and plain["event_id"] is None
    assert received["message"] == "📥 Event received: USER_CREATED from topic user.events"
    assert received["trace_id"] == trace.trace_id and received["event_id"] == "event-1"
    assert received["event_type"] == "USER_CREATED" and received["request_id"] == "req-1"
    assert other["service"] == "crm-test" and "pa55-w0rd-in-a-url" not in json_log.getvalue()
    assert "***" in other["message"]


def test_text_lines_are_the_guides() -> None:
    stream = io.StringIO()
    configure_logging("crm-test", fmt="text", stream=stream)
    try:
        with event_context(parse_traceparent(W3C_EXAMPLE), "e", "USER_CREATED"):
            service_logger("crm.test", "auth-service").info(
                "📤 Event published: USER_CREATED to topic user.events"
            )
    finally:
        logs.remove_handler()
    assert (
        stream.getvalue()
        .rstrip()
        .endswith("INFO    [auth-service] crm.test: 📤 Event published: USER_CREATED to topic user.events")
    )
    assert "0af7651916cd43dd8448eb211c80319c" not in stream.getvalue()


# --- HTTP middleware ----------------------------------------------------------------------------------------


def observed_app(service: str) -> FastAPI:
    app = FastAPI()

    @app.get("/api/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str | None]:
        return {"id": thing_id, "traceparent": current_traceparent(), "request": logs.request_id_var.get()}

    app.add_middleware(ObservabilityMiddleware, service=service)
    return app


async def test_requests_are_counted_by_route_template_and_status_and_carry_their_trace(
    json_log: io.StringIO,
) -> None:
    app = observed_app("middleware-test")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        first = await client.get("/api/things/1", headers={"traceparent": W3C_EXAMPLE, "x-request-id": "r-1"})
        await client.get("/api/things/2")
        await client.get("/nowhere")
    body = first.json()
    assert first.headers["x-request-id"] == body["request"] == "r-1"
    seen = parse_traceparent(body["traceparent"])
    assert seen is not None and seen.trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert first.headers["traceresponse"] == body["traceparent"]
    route = "/api/things/{thing_id}"
    labels = {"service": "middleware-test", "method": "GET", "route": route}
    assert samples("crm_http_requests_total", status="200", **labels) == [2.0]
    assert samples("crm_http_request_duration_seconds_count", **labels) == [2.0]
    assert samples("crm_http_requests_total", service="middleware-test", route="unmatched", status="404") == [
        1.0
    ]
    access = [line for line in lines(json_log) if line["logger"] == "crm.access"]
    assert access[0]["http"]["route"] == route and access[0]["http"]["status"] == 200
    assert access[0]["request_id"] == "r-1" and access[0]["trace_id"] == seen.trace_id
    assert access[0]["service"] == "middleware-test"


async def test_the_gateway_wrapper_hands_its_trace_and_request_id_to_the_upstream() -> None:
    upstream = observed_app("upstream-test")
    gateway = ObservabilityMiddleware(
        upstream, service="gateway-test", route_of=lambda scope: "/api/things", propagate=True
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://t") as client:
        response = await client.get("/api/things/7", headers={"traceparent": W3C_EXAMPLE})
    body = response.json()
    gateway_span = parse_traceparent(response.headers["traceresponse"])
    upstream_span = parse_traceparent(body["traceparent"])
    assert gateway_span.trace_id == upstream_span.trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert gateway_span.span_id != upstream_span.span_id
    assert response.headers["x-request-id"] == body["request"]
    assert samples("crm_http_requests_total", service="gateway-test", route="/api/things") == [1.0]


async def test_metrics_endpoint_serves_the_text_format() -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=metrics.metrics_endpoint), base_url="http://t"
    ) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    families = {f.name for f in text_string_to_metric_families(response.text)}
    assert {
        "crm_http_requests",
        "crm_events_published",
        "crm_outbox_backlog",
        "process_cpu_seconds",
    } <= families
    assert 'service="' in next(line for line in response.text.splitlines() if line.startswith("process_cpu"))


# --- budget -------------------------------------------------------------------------------------------------


def test_the_budget_warns_once_a_day_at_80_percent_of_the_daily_quota(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [datetime(2026, 11, 25, 23, 0, tzinfo=UTC)]
    budget = metrics.MessageBudget(clock=lambda: now[0])
    budget.configure(daily_quota=100, monthly_quota=100_000)
    log = service_logger("crm.budget-test", "analytics-service")
    with caplog.at_level(logging.WARNING, logger="crm.budget-test"):
        budget.count("analytics-service", 50, log)
        budget.count("customer-service", 29, log)
        assert not caplog.records, "79% is below the line"
        budget.count("customer-service", 1, log)
        budget.count("analytics-service", 30, log)
        assert len(caplog.records) == 1, "one warning a day"
        assert "80 of 100 messages today (80% of KAFKA_DAILY_QUOTA)" in caplog.records[0].getMessage()
        assert budget.used() == (110, 110) and budget.used("customer-service") == (30, 30)
        now[0] = datetime(2026, 11, 26, 0, 1, tzinfo=UTC)
        assert budget.used() == (0, 110), "a new UTC day starts at zero; the month goes on"
        budget.count("analytics-service", 80, log)
        assert len(caplog.records) == 2, "and warns again"
        now[0] = datetime(2026, 12, 1, tzinfo=UTC)
        assert budget.used() == (0, 0)
