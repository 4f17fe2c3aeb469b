"""Observability of the embedded CRM: `/metrics` after the guide's register, JSON logs that carry the request
id and trace id, and one trace from the HTTP request to every service the event reached."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from crm.modes.embedded import Embedded
from crm.platform import logs
from crm.platform.logs import configure_logging
from tests.support.embedded import bearer, register, running_embedded, token_for
from tests.support.waiting import eventually

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


async def scrape(crm: Embedded, service: str = "customer") -> dict[tuple[str, frozenset], float]:
    """GET /metrics of one service app of the embedded process: {(sample name, labels): value}."""
    app = crm.gateway.upstreams[service].app  # type: ignore[attr-defined]
    _, admin = token_for(crm, "ADMIN")  # /metrics is for METRICS_TOKEN or an ADMIN (test_metrics_access.py)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
        response = await client.get("/metrics", headers=bearer(admin))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(found: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in found.items() if n == name and set(labels.items()) <= ls)


async def test_metrics_show_the_register_request_and_its_event_published_and_consumed(tmp_path: Path) -> None:
    async with running_embedded(tmp_path) as (crm, client):
        customer = crm.runtimes["customer"].consumer
        assert customer is not None

        async def applied(n: int) -> bool:
            return customer.applied >= n

        # The first administrator's USER_CREATED (made at start) is counted before the baseline.
        await eventually(lambda: applied(1), what="the first administrator's USER_CREATED applied")
        before = await scrape(crm)
        await register(client, "metrics@example.com")
        await eventually(lambda: applied(2), what="customer-service applying the new USER_CREATED")
        after = await scrape(crm, "auth")  # one process, one registry: every service's /metrics shows all

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    request = {"service": "auth-service", "method": "POST", "route": "/api/auth/register"}
    assert delta("crm_http_requests_total", status="201", **request) == 1
    assert delta("crm_http_request_duration_seconds_count", **request) == 1
    assert delta("crm_http_request_duration_seconds_bucket", le="+Inf", **request) == 1
    published = {"service": "auth-service", "topic": "user.events", "type": "USER_CREATED"}
    assert delta("crm_events_published_total", **published) == 1
    consumed_by = {"topic": "user.events", "type": "USER_CREATED"}
    assert delta("crm_events_consumed_total", service="customer-service", **consumed_by) == 1
    assert delta("crm_event_handling_seconds_count", service="customer-service", type="USER_CREATED") == 1
    assert value(after, "crm_outbox_backlog", service="auth-service") == 0
    assert value(after, "crm_outbox_oldest_age_seconds", service="auth-service") == 0
    assert value(after, "crm_kafka_budget_quota_messages", service="auth-service", period="day") == 1000
    assert delta("crm_kafka_messages_total") == 0, "the embedded bus is no Kafka: no quota spent"
    services = {dict(ls).get("service") for (_n, ls) in after}
    assert {"auth-service", "customer-service", "analytics-service"} <= services
    assert all("service" in dict(ls) for (_n, ls) in after), "every series says which service"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("crm-dev", fmt="json", stream=stream)
    yield stream
    logs.remove_handler()
    logs.access_level = logging.DEBUG


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


async def test_one_trace_runs_from_the_request_through_every_service_the_event_reaches(
    tmp_path: Path, json_log: io.StringIO
) -> None:
    async with running_embedded(tmp_path) as (_crm, client):
        response = await client.post(
            "/api/auth/register",
            json={
                "email": "traced@example.com",
                "password": "Password123!",
                "name": "Traced",
                "role": "USER",
            },
            headers={"traceparent": f"00-{CLIENT_TRACE}-00f067aa0ba902b7-01"},
        )
        assert response.status_code == 201
        request_id = response.headers["x-request-id"]

        def mine() -> list[dict]:
            return [line for line in json_lines(json_log) if line["trace_id"] == CLIENT_TRACE]

        def received() -> set[tuple[str, str]]:
            return {
                (line["service"], line["message"])
                for line in mine()
                if line["message"].startswith("📥 Event received")
            }

        expected = {
            ("customer-service", "📥 Event received: USER_CREATED from topic user.events"),
            ("analytics-service", "📥 Event received: USER_CREATED from topic user.events"),
            # customer-service's CUSTOMER_CREATED for the new user, then sales-activity's first-contact task
            ("sales-activity-service", "📥 Event received: CUSTOMER_CREATED from topic customer.events"),
            ("opportunity-service", "📥 Event received: TASK_CREATED from topic sales-activity.events"),
        }

        async def reached_every_service() -> bool:
            return expected <= received()

        await eventually(reached_every_service, what="the trace reaching every service")
    lines = mine()
    access = next(line for line in lines if line["logger"] == "crm.access")
    assert access["service"] == "auth-service" and access["request_id"] == request_id
    assert access["http"] == {**access["http"], "route": "/api/auth/register", "status": 201}
    published = next(line for line in lines if line["message"].startswith("📤 Event published: USER_CREATED"))
    assert published["service"] == "auth-service"
    user_event = next(line for line in lines if line["message"].startswith("📥 Event received: USER_CREATED"))
    assert user_event["event_id"] == published["event_id"] and user_event["event_type"] == "USER_CREATED"
    assert all(line["span_id"] for line in lines), "every line of the trace names its span"


async def test_without_a_traceparent_the_request_starts_a_trace_its_events_continue(
    tmp_path: Path, json_log: io.StringIO
) -> None:
    async with running_embedded(tmp_path) as (_crm, client):
        response = await client.post(
            "/api/auth/register",
            json={"email": "fresh@example.com", "password": "Password123!", "name": "Fresh", "role": "USER"},
        )
        trace_id = response.headers["traceresponse"].split("-")[1]

        async def customer_received() -> bool:
            return any(
                line["trace_id"] == trace_id
                and line["service"] == "customer-service"
                and line["message"] == "📥 Event received: USER_CREATED from topic user.events"
                for line in json_lines(json_log)
            )

        await eventually(customer_received, what="customer-service's line in the request's trace")


def exported_spans(text: str) -> list[dict]:
    """The JSON objects OpenTelemetry's console exporter wrote, one after another."""
    decoder, spans, at = json.JSONDecoder(), [], 0
    while (start := text.find("{", at)) != -1:
        try:
            span, at = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            at = start + 1
            continue
        if isinstance(span, dict) and "context" in span:
            spans.append(span)
    return spans


async def test_with_an_otel_exporter_the_spans_of_every_service_form_one_trace(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    async with running_embedded(tmp_path, OTEL_TRACES_EXPORTER="console") as (crm, client):
        await register(client, "otel@example.com")
        customer = crm.runtimes["customer"].consumer
        assert customer is not None

        relay = crm.runtimes["customer"].relay

        async def published() -> bool:
            # the first administrator's USER_CREATED, then this one: each made a CUSTOMER_CREATED
            return customer.applied >= 2 and relay.published >= 2

        await eventually(published, what="customer-service publishing the new user's CUSTOMER_CREATED")
    # Stopping the runtimes flushed every exporter.
    spans = exported_spans(capfd.readouterr().out)
    request = next(s for s in spans if s["name"] == "POST /api/auth/register")
    trace_id = request["context"]["trace_id"]
    assert request["kind"] == "SpanKind.SERVER"
    assert request["resource"]["attributes"]["service.name"] == "auth-service"
    assert request["attributes"]["http.route"] == "/api/auth/register"
    in_trace = [s for s in spans if s["context"]["trace_id"] == trace_id]
    publish = next(s for s in in_trace if s["name"] == "user.events publish")
    assert publish["parent_id"] == request["context"]["span_id"]
    assert publish["kind"] == "SpanKind.PRODUCER"
    consumers = {
        s["resource"]["attributes"]["service.name"]: s for s in in_trace if s["name"] == "user.events process"
    }
    handler = consumers["customer-service"]
    assert handler["parent_id"] == publish["context"]["span_id"]
    assert (
        handler["kind"] == "SpanKind.CONSUMER" and handler["attributes"]["crm.event_type"] == "USER_CREATED"
    )
    # The event the handler emitted continues the trace.
    emitted = next(s for s in in_trace if s["name"] == "customer.events publish")
    assert emitted["parent_id"] == handler["context"]["span_id"]
    assert emitted["resource"]["attributes"]["service.name"] == "customer-service"
