"""An open live stream over the embedded mode's bus, driven through raw ASGI messages: keep-alive comments
while nothing happens, an event the caller may see, and the end of the stream when the token expires."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from crm.contracts import EventType, Topic, make_event
from crm.contracts.payloads.sales_activity import TaskCreated
from crm.platform.bus import OutgoingRecord
from crm.platform.bus.local_log import LocalLogBus
from crm.platform.security import Principal, TokenError
from crm.services.gateway.stream import EventStream
from tests.support.waiting import eventually

USER = "u-1"


class ExpiringVerifier:
    """Accepts the one token until ``expires_at``, as a real verifier does."""

    def __init__(self, expires_at: datetime) -> None:
        self.expires_at = expires_at

    async def verify(self, token: str) -> Principal:
        if token != "good" or datetime.now(UTC) >= self.expires_at:
            raise TokenError("token expired")
        return Principal(id=USER, email="u@example.com", role="USER", expires_at=self.expires_at)


def task_record(assignee: str) -> OutgoingRecord:
    payload = TaskCreated(task_id="t-1", title="Call", assignee_id=assignee, status="TODO", priority="MEDIUM")
    event = make_event(EventType.TASK_CREATED, payload, subject="t-1", source="sales-activity-service")
    return OutgoingRecord(Topic.SALES_ACTIVITY.value, b"t-1", event.to_json(), event.headers())


async def test_keep_alive_then_an_event_then_the_end_at_expiry(tmp_path: Path) -> None:
    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    await bus.connect()
    expires = datetime.now(UTC) + timedelta(seconds=1.5)
    stream = EventStream(bus, ExpiringVerifier(expires), keep_alive=0.2, recheck=0.1)
    sent: list[dict[str, Any]] = []
    gone = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if not sent:
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/api/stream", "headers": []}
    serving = asyncio.ensure_future(stream.serve(scope, receive, send, b"Bearer good", []))

    async def kept_alive() -> bool:  # a stream with nothing to say: keep-alive comments meanwhile
        return any(m.get("body", b"") == b": keep-alive\n\n" for m in sent)

    await eventually(kept_alive, timeout=1, what="a keep-alive comment")
    await bus.publish([task_record(USER), task_record("someone-else")])
    await asyncio.wait_for(serving, 5)  # ended by itself when the token expired
    gone.set()
    assert sent[0]["status"] == 200
    assert dict(sent[0]["headers"])[b"content-type"].startswith(b"text/event-stream")
    body = b"".join(m.get("body", b"") for m in sent[1:])
    assert body.startswith(b"id: ")
    assert b"event: ready" in body.split(b"\n\n")[0]
    assert b": keep-alive\n\n" in body
    assert body.count(b"event: TASK_CREATED") == 1  # the other user's task is not sent
    data = next(line for line in body.split(b"\n") if line.startswith(b'data: {"id"'))
    assert orjson.loads(data[6:])["data"]["assigneeId"] == USER
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert datetime.now(UTC) >= expires
    assert stream.open == 0
    await bus.dispose()


class Client:
    """One raw ASGI exchange with the stream: what it was sent, and a way to hang up."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.hung_up = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        if not self.sent:
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.hung_up.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


async def test_a_caller_may_hold_only_so_many_streams(tmp_path: Path) -> None:
    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    stream = EventStream(bus, ExpiringVerifier(datetime.now(UTC) + timedelta(minutes=5)), per_caller=1)
    scope = {"type": "http", "method": "GET", "path": "/api/stream", "headers": []}
    first, second, third = Client(), Client(), Client()
    serving = asyncio.ensure_future(stream.serve(scope, first.receive, first.send, b"Bearer good", []))
    await eventually(lambda: _opened(first), what="the first stream open")
    await stream.serve(scope, second.receive, second.send, b"Bearer good", [])
    assert second.sent[0]["status"] == 429
    assert orjson.loads(second.sent[1]["body"])["error"] == "too_many_streams"
    first.hung_up.set()
    await asyncio.wait_for(serving, 5)
    assert stream.open == 0
    third_serving = asyncio.ensure_future(stream.serve(scope, third.receive, third.send, b"Bearer good", []))
    await eventually(lambda: _opened(third), what="a stream again once the first closed")
    third.hung_up.set()
    await asyncio.wait_for(third_serving, 5)
    await bus.dispose()


async def _opened(client: Client) -> bool:
    return bool(client.sent) and client.sent[0]["status"] == 200
