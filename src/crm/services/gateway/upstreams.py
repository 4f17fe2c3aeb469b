"""How the gateway reaches a service: in-process (embedded mode) or over HTTP (distributed mode).

Both take the gateway's prepared request (headers to send, body already read and size-checked, headers to add
to the response) through ``forward``; both are also plain ASGI callables, which the merged OpenAPI document
uses. The HTTP upstream speaks HTTP/1.1 itself (``http1``): pooled keep-alive connections, bodies streamed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm.services.gateway import http1
from crm.services.gateway.config import MAX_BODY_BYTES
from crm.services.gateway.direct import send_whole

log = logging.getLogger("crm.gateway")

Headers = list[tuple[bytes, bytes]]

# Never forwarded from a client to a service: hop-by-hop headers (RFC 9110 §7.6.1), the framing (we send the
# body with our own Content-Length), and what the gateway sets itself.
REQUEST_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"expect",
        b"host",
        b"content-length",
    }
)
# Never passed from a service's response to the client: hop-by-hop and framing (uvicorn frames the answer),
# uvicorn's own date/server (it adds them again), and the headers the gateway sets on every answer.
RESPONSE_DROP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",
        b"date",
        b"server",
        b"x-request-id",
        b"x-content-type-options",
        b"x-frame-options",
        b"referrer-policy",
        b"content-security-policy",
        b"strict-transport-security",
        b"access-control-allow-origin",
        b"access-control-allow-credentials",
        b"access-control-expose-headers",
    }
)
# What the ASGI path drops from a service's answer (framing stays: it is the same server writing it).
ASGI_RESPONSE_DROP = RESPONSE_DROP - {b"content-length", b"transfer-encoding"}


class HttpUpstream:
    """Forwards requests to ``base_url`` over pooled HTTP/1.1 connections; 502/504 JSON when it cannot."""

    def __init__(
        self, name: str, base_url: str, *, timeout: float = 30.0, connect_timeout: float = 5.0
    ) -> None:
        self.name, self.base_url = name, base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{name}: upstream URL must be http(s)://host[:port], got {base_url!r}")
        secure = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if secure else 80)
        self.prefix = parts.path.rstrip("/").encode()
        default_port = (secure and self.port == 443) or (not secure and self.port == 80)
        self.host_header = (parts.netloc.rsplit("@", 1)[-1] if not default_port else self.host).encode()
        self.timeout = timeout
        self._last_warning = -1e9
        self.pool = http1.Pool(
            self.host,
            self.port,
            ssl=ssl.create_default_context() if secure else None,
            connect_timeout=connect_timeout,
        )

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self.pool.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Plain ASGI: forward as is (used for the OpenAPI documents)."""
        try:
            body = await read_body(receive)
        except BodyTooLarge:
            await send_json(send, 413, {"error": "payload_too_large", "message": "request body over 1 MB"})
            return
        except ClientGone:
            return
        headers = [(k, v) for k, v in scope["headers"] if k not in REQUEST_HOP_BY_HOP]
        await self.forward(scope, receive, send, headers, body, [])

    async def forward(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers, body: bytes, extra: Headers
    ) -> int:
        """Pass the request on and its answer back; returns the answer's status."""
        return await self._exchange(scope, receive, send, headers, body, extra, self.timeout)

    async def _exchange(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: Headers,
        body: bytes,
        extra: Headers,
        timeout: float,
    ) -> int:
        method: str = scope["method"]
        request = self._request_bytes(scope, method, headers, body)
        retried = False
        while True:
            try:
                conn, reused = await self.pool.acquire()
            except TimeoutError:
                return await self._fail(
                    send, extra, 504, "upstream_timeout", f"{self.name} did not accept a connection"
                )
            except OSError as exc:
                self._warn(f"{self.name} unreachable at {self.base_url}: {exc.strerror or exc}")
                return await self._fail(
                    send, extra, 502, "upstream_unavailable", f"{self.name} is unreachable"
                )
            conn.write(request)
            try:
                head = await http1.read_head(conn, method, timeout, RESPONSE_DROP)
                if head.framing == http1.LENGTH and len(conn.buffer) < head.length <= http1.SMALL_BODY:
                    # uvicorn writes a head and its body separately: a small body is worth one more wait
                    # rather than the streaming path.
                    while len(conn.buffer) < head.length:
                        await conn.more(timeout)
                break
            except http1.UpstreamClosed:
                conn.close()
                if reused and not retried and method in http1.IDEMPOTENT:
                    retried = True  # the server closed an idle connection as we sent: once more, on a new one
                    continue
                return await self._fail(
                    send, extra, 502, "upstream_unavailable", f"{self.name} closed the connection"
                )
            except TimeoutError:
                conn.close()
                return await self._fail(
                    send, extra, 504, "upstream_timeout", f"{self.name} did not answer in time"
                )
            except http1.UpstreamProtocolError as exc:
                conn.close()
                self._warn(f"{self.name} answered invalid HTTP: {exc}")
                return await self._fail(send, extra, 502, "bad_gateway", f"{self.name} answered invalid HTTP")
            except BaseException:  # cancelled (server shutting down): the connection is in an unknown state
                conn.close()
                raise
        if extra:
            head.headers += extra
        if head.framing == http1.LENGTH and len(conn.buffer) == head.length:
            # The usual case: the whole body is already here; out in one write, no waiting.
            body_out = bytes(conn.buffer)
            conn.buffer.clear()
            if head.keep_alive:
                self.pool.release(conn)
            else:
                conn.close()
            await send_whole(send, head.status, head.headers, body_out)
            return head.status
        await send({"type": "http.response.start", "status": head.status, "headers": head.headers})
        await self._stream(conn, head, receive, send, timeout)
        return head.status

    async def _stream(
        self, conn: http1.Connection, head: http1.ResponseHead, receive: Receive, send: Send, timeout: float
    ) -> None:
        """A body arriving over time: passed on piece by piece, never held whole; stops if the client goes."""
        client_gone = False

        async def watch_client() -> None:
            nonlocal client_gone
            # A server's receive() blocks, once the request body is read, until the client disconnects; one
            # that keeps answering (an in-process caller) is not watched.
            for _ in range(3):
                if (await receive())["type"] == "http.disconnect":
                    client_gone = True
                    conn.close()
                    return

        watcher = asyncio.ensure_future(watch_client())
        try:
            reusable = await http1.stream_body(conn, head, send, timeout)
        except (http1.UpstreamClosed, TimeoutError, http1.UpstreamProtocolError) as exc:
            conn.close()
            if client_gone:
                return
            # The status line is out: the only honest signal left is to cut the client's connection, which
            # uvicorn does when the app raises.
            self._warn(f"{self.name} broke off a response body ({type(exc).__name__})")
            raise UpstreamBrokeOff(f"{self.name} broke off a response body") from exc
        except BaseException:
            conn.close()
            raise
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watcher
        if reusable and not client_gone:
            self.pool.release(conn)
        else:
            conn.close()

    def _request_bytes(self, scope: Scope, method: str, headers: Headers, body: bytes) -> bytes:
        path: bytes = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope.get("query_string", b"")
        parts = [method.encode(), b" ", self.prefix, path]
        if query:
            parts += [b"?", query]
        parts += [b" HTTP/1.1\r\nhost: ", self.host_header, b"\r\n"]
        for name, value in headers:
            parts += [name, b": ", value, b"\r\n"]
        if body or method in ("POST", "PUT", "PATCH"):
            parts += [b"content-length: ", b"%d" % len(body), b"\r\n\r\n", body]
        else:
            parts.append(b"\r\n")
        return b"".join(parts)

    async def _fail(self, send: Send, extra: Headers, status: int, code: str, message: str) -> int:
        request_id = next((v.decode("latin-1") for k, v in extra if k == b"x-request-id"), None)
        await send_json(send, status, {"error": code, "message": message, "requestId": request_id}, extra)
        return status

    def _warn(self, message: str) -> None:
        """One line per upstream per 10 s: a service that is down must not flood the gateway's log."""
        now = time.monotonic()
        if now - self._last_warning >= 10.0:
            self._last_warning = now
            log.warning("⚠️ %s", message)

    async def fetch(self, path: str, timeout: float = 3.0) -> tuple[int, bytes]:
        """GET ``path``, the whole body (for /ready)."""
        status = 0
        chunks: list[bytes] = []

        never = asyncio.Event()

        async def receive() -> Message:
            await never.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
        }
        headers = [(b"accept", b"application/json")]
        await asyncio.wait_for(self._exchange(scope, receive, send, headers, b"", [], timeout), timeout + 1)
        return status, b"".join(chunks)

    async def ready(self) -> dict[str, Any]:
        """The service's /ready answer with the round-trip time."""
        started = time.perf_counter()
        try:
            code, raw = await self.fetch("/ready")
            body = orjson.loads(raw)
            status = "up" if code == 200 else ("down" if code in (502, 504) else "degraded")
        except (TimeoutError, ValueError, OSError) as exc:
            body, status = {"error": type(exc).__name__}, "down"
        return {
            "status": status,
            "latencyMs": round((time.perf_counter() - started) * 1000, 1),
            "detail": body,
        }


class AsgiUpstream:
    """Calls a service app in the same process (embedded mode): no sockets, no copies."""

    def __init__(self, name: str, app: ASGIApp, readiness: Any) -> None:
        self.name, self.app, self._readiness = name, app, readiness

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    async def forward(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers, body: bytes, extra: Headers
    ) -> int:
        """Call the service app with the request; returns the answer's status."""
        inner_scope = dict(scope)
        inner_scope["headers"] = headers
        delivered = False
        status = 500  # what a client sees when the app raises before answering

        async def inner_receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def inner_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                kept = [h for h in message.get("headers", []) if h[0].lower() not in ASGI_RESPONSE_DROP]
                message = {**message, "headers": kept + extra}
            await send(message)

        await self.app(inner_scope, inner_receive, inner_send)
        return status

    async def ready(self) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            body = await asyncio.wait_for(self._readiness(), timeout=3)
            status = "up" if body.get("database") == "ok" else "degraded"
        except Exception as exc:
            body, status = {"error": type(exc).__name__}, "down"
        return {
            "status": status,
            "latencyMs": round((time.perf_counter() - started) * 1000, 1),
            "detail": body,
        }


class UpstreamBrokeOff(Exception):
    """A service's answer ended early, after its status line was passed on."""


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    """The client disconnected before its request body was complete: nothing is forwarded."""


async def read_body(receive: Receive, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole request body; BodyTooLarge past ``limit`` bytes, ClientGone if the client leaves first."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def send_json(
    send: Send, status: int, body: dict[str, Any], extra: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    await send_response(send, status, orjson.dumps(body), b"application/json", extra)


async def send_response(
    send: Send, status: int, payload: bytes, content_type: bytes, extra: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", b"%d" % len(payload)), *extra]
    await send_whole(send, status, headers, payload)
