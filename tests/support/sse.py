"""A reader of the gateway's live stream (`GET /api/stream`, Server-Sent Events), for tests and benchmarks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson


@dataclass(frozen=True)
class Message:
    id: str | None
    event: str
    data: str

    def json(self) -> Any:
        return orjson.loads(self.data)


class EventStreamReader:
    """The messages of one open stream, in order; ``None`` from :meth:`next` when the stream ended."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()
        self.comments: list[str] = []
        self.received: list[Message] = []

    async def next(self, timeout: float = 10.0) -> Message | None:
        return await asyncio.wait_for(self._next(), timeout)

    async def _next(self) -> Message | None:
        fields: dict[str, str] = {}
        data: list[str] = []
        async for line in self._lines:
            if line == "":
                if data or fields:
                    message = Message(fields.get("id"), fields.get("event", "message"), "\n".join(data))
                    self.received.append(message)
                    return message
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data.append(value)
            else:
                fields[name] = value
        return None

    async def until(self, match: Callable[[Message], bool], timeout: float = 10.0) -> Message:
        """The first message received (so far, or next) that ``match`` es."""
        for message in self.received:
            if match(message):
                return message
        async with asyncio.timeout(timeout):
            while True:
                message = await self._next()
                if message is None:
                    raise AssertionError(f"the stream ended; it sent {[m.event for m in self.received]}")
                if match(message):
                    return message

    async def ended(self, timeout: float = 10.0) -> list[Message]:
        """Wait for the stream to end; the messages that came before the end."""
        rest: list[Message] = []
        async with asyncio.timeout(timeout):
            while (message := await self._next()) is not None:
                rest.append(message)
        return rest


def of_type(event_type: str, **data: Any) -> Callable[[Message], bool]:
    """Matches an event of ``event_type`` whose payload holds ``data``."""

    def match(message: Message) -> bool:
        if message.event != event_type:
            return False
        payload = message.json()["data"]
        return all(payload.get(k) == v for k, v in data.items())

    return match


@contextlib.asynccontextmanager
async def open_stream(
    base_url: str, token: str, last_event_id: str | None = None
) -> AsyncIterator[EventStreamReader]:
    """``GET /api/stream`` over a real socket; yields the reader once the ``ready`` message arrived."""
    headers = {"Authorization": f"Bearer {token}"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10, read=60)) as client,
        client.stream("GET", "/api/stream", headers=headers) as response,
    ):
        assert response.status_code == 200, (await response.aread()).decode()
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = EventStreamReader(response)
        ready = await reader.next()
        assert ready is not None and ready.event == "ready", ready
        yield reader
