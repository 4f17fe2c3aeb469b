"""A whole answer in one write under uvicorn: the gateway's one shortcut past ASGI.

Through ASGI an answer is two messages, and uvicorn turns them into two socket writes after checking each
header with two regular expressions — measured at ~25 µs of the gateway's CPU per proxied request, the largest
single cost after the kernel's own. When the server is uvicorn's httptools protocol (what ``crm serve`` runs),
an answer whose body is already whole (the usual small JSON) is written as uvicorn itself would write it —
status line, its default ``date``/``server`` headers, ours, the body — in one ``transport.write``, and the
request/response cycle is marked complete the way its own ``send`` does. Any other server, an access log to
write, or a uvicorn whose internals differ: the two ASGI messages, as before. Header values are checked for
control characters by whoever builds them (``http1.read_head`` for a service's answer).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from starlette.types import Send

log = logging.getLogger("crm.gateway")

_Cycle: Any = None
STATUS_LINE: dict[int, bytes] = {}
try:  # uvicorn[standard] brings httptools; without it there is nothing to shortcut
    from uvicorn.protocols.http import httptools_impl

    _Cycle, STATUS_LINE = httptools_impl.RequestResponseCycle, httptools_impl.STATUS_LINE
except ImportError:  # pragma: no cover - depends on the installed server
    pass

_usable = _Cycle is not None


def _cycle(send: Send) -> Any:
    cycle: Any = getattr(send, "__self__", None)
    if not _usable or type(cycle) is not _Cycle:
        return None
    if cycle.access_log or cycle.response_started:
        return None
    return cycle


async def send_whole(send: Send, status: int, headers: Sequence[tuple[bytes, bytes]], body: bytes) -> None:
    """Send a complete answer; ``headers`` must hold its ``content-length``."""
    cycle = _cycle(send)
    if cycle is not None:
        try:
            if cycle.flow.write_paused and not cycle.disconnected:
                await cycle.flow.drain()
            if cycle.disconnected:
                return
            parts = [STATUS_LINE[status]]
            for name, value in cycle.default_headers:
                parts += [name, b": ", value, b"\r\n"]
            for name, value in headers:
                parts += [name, b": ", value, b"\r\n"]
            if not cycle.keep_alive:
                parts.append(b"connection: close\r\n")
            parts.append(b"\r\n")
            if cycle.scope["method"] != "HEAD":
                parts.append(body)
            cycle.response_started = True
            cycle.waiting_for_100_continue = False
            cycle.transport.write(b"".join(parts))
            cycle.response_complete = True
            cycle.message_event.set()
            if not cycle.keep_alive:
                cycle.transport.close()
            cycle.on_response()
            return
        except (AttributeError, KeyError, TypeError) as exc:  # uvicorn changed: use ASGI from now on
            _disable(exc)
            if cycle.response_started:
                raise
    await send({"type": "http.response.start", "status": status, "headers": list(headers)})
    await send({"type": "http.response.body", "body": body})


def _disable(exc: BaseException) -> None:
    global _usable
    _usable = False
    log.warning("Answers go through ASGI messages: this uvicorn differs from the expected one (%r)", exc)
