"""``GET /api/stream``: the caller's live events as Server-Sent Events, fed from the event bus.

The gateway process tails the topics once for all its streams (:mod:`crm.services.gateway.stream_hub`; the
bus's :class:`crm.platform.bus.Tailing`: no consumer group, the local log in the embedded mode, Kafka in the
six-process mode). A stream starts "now", or at the cursor a reconnecting client sends as ``Last-Event-ID``.
The cursor is the stream's position in every (topic, partition) — ``customer.events:0:41,…`` — so a resumed
stream reads exactly the records after the last event the client received: none lost, none twice, whichever
gateway instance it reconnects to. Events the caller may not see (:func:`crm.services.gateway.audience.sees`)
move the cursor without being sent.

The answer: ``event: ready`` with the starting cursor, then one message per event (``id: <cursor>``,
``event: <type>``, ``data: <envelope JSON>``), a ``: keep-alive`` comment every 15 s. The token is checked
again every second: the stream ends when it expires or is revoked (the client refreshes and resumes), when the
client goes, or when the server stops.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from starlette.types import Message, Receive, Scope, Send

from crm.platform.bus import BusError, Position, Tailing
from crm.platform.events import Envelope
from crm.platform.security import Principal, TokenError
from crm.services.gateway.audience import STREAMED_TOPICS, sees
from crm.services.gateway.edge_auth import Verifier, bearer
from crm.services.gateway.stream_hub import Follower, Hub
from crm.services.gateway.upstreams import send_json

STREAM_PATH = "/api/stream"
KEEP_ALIVE_SECONDS = 15.0
RECHECK_SECONDS = 1.0
# A user's tabs and devices; more is a leak or an abuse (each stream resuming from far back reads the bus).
STREAMS_PER_CALLER = 10
Headers = list[tuple[bytes, bytes]]
log = logging.getLogger("crm.gateway")

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
STREAM_OPENAPI: dict[str, Any] = {
    STREAM_PATH: {
        "get": {
            "tags": ["stream"],
            "operationId": "stream_events",
            "summary": "The caller's live events (Server-Sent Events)",
            "description": (
                'A `text/event-stream` that stays open: first `event: ready` with `data: {"cursor": …}`, '
                "then per event `id: <cursor>`, `event: <EVENT_TYPE>`, `data: {id, type, source, time, "
                "subject, data}` (the payload as in docs/events.md), and a `: keep-alive` comment every 15 s."
                " Reconnect with `Last-Event-ID: <the last id received>` to get exactly the events after it. "
                "A caller receives the events whose payload names them (owner, assignee, requester, "
                "recipient, decider, …); MANAGER, ADMIN and COMPLIANCE also every customer, sales-activity "
                "and deal event (so every APPROVAL_REQUESTED); never security events or another user's "
                "notifications. The stream ends when the token expires or is revoked."
            ),
            "parameters": [
                {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "The `id` of the last message received: resume right after it.",
                }
            ],
            "responses": {
                "200": {
                    "description": "The stream of events",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                },
                "401": {"description": "Missing, invalid, expired or revoked token", "content": _ERROR},
                "422": {"description": "Last-Event-ID is not a cursor of this stream", "content": _ERROR},
                "429": {"description": "Too many streams open for the caller (10)", "content": _ERROR},
                "503": {"description": "No event bus now: retry after Retry-After", "content": _ERROR},
            },
        }
    }
}
_STREAM_HEADERS: Headers = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # a proxy in front (nginx) must not hold the events back
]


def format_cursor(positions: Mapping[Position, int]) -> str:
    return ",".join(f"{topic}:{part}:{offset}" for (topic, part), offset in sorted(positions.items()))


def parse_cursor(text: str) -> dict[Position, int]:
    """The positions a cursor names; ValueError when it is not one."""
    positions: dict[Position, int] = {}
    for part in text.split(","):
        topic, partition, offset = part.strip().rsplit(":", 2)
        if topic not in STREAMED_TOPICS or int(partition) < 0 or int(offset) < 0:
            raise ValueError(part)
        positions[(topic, int(partition))] = int(offset)
    return positions


def message(event: str, data: bytes, cursor: str) -> bytes:
    return b"id: %s\nevent: %s\ndata: %s\n\n" % (cursor.encode(), event.encode(), data)


def event_json(envelope: Envelope) -> bytes:
    return orjson.dumps(
        {
            "id": envelope.id,
            "type": envelope.type,
            "source": envelope.source,
            "time": envelope.time.isoformat(),
            "subject": envelope.subject,
            "data": envelope.data,
        }
    )


class EventStream:
    """``bus``: what the gateway tails (None: Kafka disabled in the distributed mode, no stream: 503).
    ``verifier``: the uncached one, so a revocation ends a stream within :data:`RECHECK_SECONDS`."""

    def __init__(
        self,
        bus: Tailing | None,
        verifier: Verifier,
        *,
        keep_alive: float = KEEP_ALIVE_SECONDS,
        recheck: float = RECHECK_SECONDS,
        per_caller: int = STREAMS_PER_CALLER,
    ) -> None:
        self.bus, self.verifier = bus, verifier
        self.keep_alive, self.recheck, self.per_caller = keep_alive, recheck, per_caller
        self._per_caller: dict[str, int] = {}  # open streams per user (or API key)
        self.open = 0
        self.ready_within = 10.0  # seconds a stream waits for the shared reader to reach the bus
        self._closing: asyncio.Event | None = None
        self._hub: Hub | None = None

    def drain(self) -> None:
        """End every open stream (the server is stopping: it must not wait for them)."""
        self._stopping().set()
        if self._hub is not None:
            self._hub.stop()  # each stream's end awaits it

    def _stopping(self) -> asyncio.Event:
        if self._closing is None:
            self._closing = asyncio.Event()
        return self._closing

    async def serve(
        self, scope: Scope, receive: Receive, send: Send, authorization: bytes | None, extra: Headers
    ) -> None:
        request_id = next((v for k, v in extra if k == b"x-request-id"), b"").decode("latin-1")

        async def refuse(
            status: int, code: str, text: str, more: Sequence[tuple[bytes, bytes]] = (), **body: Any
        ) -> None:
            answer = {"error": code, "message": text, **body, "requestId": request_id}
            await send_json(send, status, answer, [*extra, *more])

        if scope["method"] != "GET":
            await refuse(405, "method_not_allowed", "The stream is read with GET", [(b"allow", b"GET")])
            return
        try:
            token = bearer(authorization)
            principal = await self.verifier.verify(token)
        except TokenError as exc:
            challenge = b"Bearer" if authorization is None else b'Bearer error="invalid_token"'
            await refuse(401, "unauthorized", str(exc), [(b"www-authenticate", challenge)])
            return
        except Exception:
            log.exception("Token verification failed at the gateway")
            await refuse(503, "auth_unavailable", "Cannot verify tokens now", [(b"retry-after", b"1")])
            return
        last = next((v for k, v in scope["headers"] if k == b"last-event-id"), None)
        start: dict[Position, int] | None = None
        if last:
            try:
                start = parse_cursor(last.decode("ascii"))
            except (ValueError, UnicodeDecodeError):
                problem = "not a cursor of this stream (send back the id of the last event received)"
                fields = {"Last-Event-ID": problem}
                await refuse(422, "validation_error", "Invalid Last-Event-ID", fields=fields)
                return
        if self.bus is None:
            text = "The live stream needs the event bus (KAFKA_ENABLED=true)"
            await refuse(503, "stream_unavailable", text)
            return
        if self._per_caller.get(principal.id, 0) >= self.per_caller:
            text = f"At most {self.per_caller} live streams at once per caller: close one (a tab) first"
            await refuse(429, "too_many_streams", text, [(b"retry-after", b"5")])
            return
        if self._hub is None:
            self._hub = Hub(self.bus, STREAMED_TOPICS)
            self._hub.start()
        hub = self._hub
        self.open += 1
        self._per_caller[principal.id] = self._per_caller.get(principal.id, 0) + 1
        try:
            try:
                follower = await Follower.open(hub, start, ready_within=self.ready_within)
            except (BusError, TimeoutError) as exc:
                await refuse(503, "stream_unavailable", str(exc), [(b"retry-after", b"2")])
                return
            try:
                await self._pump(principal, token, follower, receive, send, extra)
            finally:
                await follower.close()
        finally:
            self.open -= 1
            left = self._per_caller.pop(principal.id) - 1
            if left:
                self._per_caller[principal.id] = left
            if self.open == 0:  # nobody listens: stop reading the bus
                if self._hub is hub:
                    self._hub = None
                await hub.close()

    async def _pump(
        self,
        principal: Principal,
        token: str,
        follower: Follower,
        receive: Receive,
        send: Send,
        extra: Headers,
    ) -> None:
        positions = follower.positions
        gone = asyncio.Event()
        watcher = asyncio.ensure_future(_wait_disconnect(receive, gone))
        stopping = self._stopping()
        try:
            await send({"type": "http.response.start", "status": 200, "headers": [*_STREAM_HEADERS, *extra]})
            cursor = format_cursor(positions)
            await _write(send, message("ready", orjson.dumps({"cursor": cursor}), cursor))
            last_write = checked = time.monotonic()
            expires = principal.expires_at.timestamp() if principal.expires_at else None
            while not gone.is_set() and not stopping.is_set():
                now = time.monotonic()
                if expires is not None and time.time() >= expires:
                    break
                if now - checked >= self.recheck:
                    checked = now
                    try:
                        await self.verifier.verify(token)
                    except TokenError:
                        break
                    except Exception:  # noqa: S110 - keys unreachable for a moment: keep the stream open
                        pass
                wait = min(self.recheck, max(0.0, self.keep_alive - (now - last_write)))
                before = dict(follower.positions)  # an event's cursor: these, plus the items up to it
                try:
                    items = await follower.fetch(timeout=wait)
                except Exception as exc:  # the bus failed: end here, the client resumes from its cursor
                    log.warning("⚠️ Live stream ended: the event bus failed (%s)", exc)
                    break
                chunks: list[bytes] = []
                seen: dict[Position, int] = {}
                for item in items:
                    seen[(item.topic, item.partition)] = item.offset + 1
                    envelope = item.envelope
                    if envelope is not None and sees(principal, item.topic, envelope.type, envelope.data):
                        cursor = format_cursor({**before, **seen})
                        chunks.append(message(envelope.type, event_json(envelope), cursor))
                if chunks:
                    await _write(send, b"".join(chunks))
                    last_write = time.monotonic()
                elif time.monotonic() - last_write >= self.keep_alive:
                    await _write(send, b": keep-alive\n\n")
                    last_write = time.monotonic()
            if not gone.is_set():
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()


async def _write(send: Send, chunk: bytes) -> None:
    await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def _wait_disconnect(receive: Receive, gone: asyncio.Event) -> None:
    while True:
        received: Message = await receive()
        if received["type"] == "http.disconnect":
            gone.set()
            return
