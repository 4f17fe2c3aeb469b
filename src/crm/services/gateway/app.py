"""The gateway app: the one door of ``/api/*``. For each request, in this order:

1. CORS preflight answered here (never forwarded);
2. the route: ``/api/<area>/...`` → the owning service (one dict lookup), else the gateway's own pages
   (``/health``, ``/ready``, ``/docs``, ``/openapi.json``) or 404 JSON;
3. the bearer token verified (signature, expiry, revocation — as the verifier reports them) unless the route
   is explicitly public: 401 JSON with ``WWW-Authenticate: Bearer``, the service never called;
4. rate limits (client IP, user, and the stricter account-endpoint bucket): 429 JSON with ``Retry-After``;
5. the body size (``Content-Length`` up front, then while reading): 413 JSON past 1 MB;
6. forwarded with ``X-Request-ID``, ``traceparent``, ``X-Forwarded-For/-Proto/-Host``; the answer streamed
   back with the security headers, CORS and ``RateLimit-*`` headers added.

A plain ASGI callable rather than a FastAPI app: every request passes here, so there is no per-request
validation, dependency resolution or middleware stack — one pass over the request headers.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

import orjson
from starlette.types import Receive, Scope, Send

from crm.platform import metrics
from crm.platform.metrics_access import ALLOWED, UNAUTHORIZED, MetricsAccess
from crm.platform.security import Principal, TokenError
from crm.services.gateway import edge
from crm.services.gateway.config import GatewayConfig
from crm.services.gateway.direct import send_whole
from crm.services.gateway.edge_auth import (
    AUTH_LIMITED_PATHS,
    PUBLIC_API_PATHS,
    Verifier,
    bearer,
)
from crm.services.gateway.openapi import SWAGGER_HTML, MergedOpenApi
from crm.services.gateway.ratelimit import Bucket, Decision, Limiter, make_limiter
from crm.services.gateway.routes import ROUTES
from crm.services.gateway.stream import STREAM_OPENAPI, STREAM_PATH, EventStream
from crm.services.gateway.upstreams import (
    REQUEST_HOP_BY_HOP,
    BodyTooLarge,
    ClientGone,
    read_body,
    send_json,
    send_response,
)
from crm.services.gateway.webapp import WebApp

Hook = Callable[[], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]
log = logging.getLogger("crm.gateway")


class Upstream(Protocol):
    name: str

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...
    async def forward(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers, body: bytes, extra: Headers
    ) -> int: ...  # the answer's status
    async def ready(self) -> dict[str, Any]: ...


# What the one pass over the request headers looks for; any other header is forwarded as is.
(_AUTHORIZATION, _ORIGIN, _REQUEST_ID, _TRACEPARENT, _LENGTH, _CHUNKED, _HOST, _PROTO, _CONNECTION, _ACRM,
 _ACRH, _DROP) = range(12)  # fmt: skip
_SPECIAL: dict[bytes, int] = {name: _DROP for name in REQUEST_HOP_BY_HOP}
_SPECIAL.update(
    {
        b"authorization": _AUTHORIZATION,
        b"origin": _ORIGIN,
        b"x-request-id": _REQUEST_ID,
        b"traceparent": _TRACEPARENT,
        b"content-length": _LENGTH,
        b"transfer-encoding": _CHUNKED,
        b"host": _HOST,
        b"x-forwarded-proto": _PROTO,
        b"connection": _CONNECTION,
        b"access-control-request-method": _ACRM,
        b"access-control-request-headers": _ACRH,
        # Set by the gateway alone (a client's own would let it pose as another address to the services).
        b"x-forwarded-for": _DROP,
        b"x-forwarded-host": _DROP,
        b"x-real-ip": _DROP,
        b"forwarded": _DROP,
    }
)
_KEEP_ALIVE_TOKENS = frozenset({b"keep-alive", b"close", b""})


class Gateway:
    def __init__(
        self,
        upstreams: Mapping[str, Upstream],
        *,
        verifier: Verifier | None = None,
        config: GatewayConfig | None = None,
        limiter: Limiter | None = None,
        on_startup: Sequence[Hook] = (),
        on_shutdown: Sequence[Hook] = (),
        webapp: WebApp | None = None,
        stream: EventStream | None = None,
        metrics_access: MetricsAccess | None = None,
    ) -> None:
        """``verifier``: an object with ``async verify(token) -> Principal`` raising TokenError; None leaves
        the token check to the services alone. ``config``: parsed from the environment by the mode (one built
        by hand, the default, enforces no rate limit). ``limiter`` overrides the one the config picks.
        ``webapp``: the built web app, for every other GET (None: 404); ``stream``: ``GET /api/stream``.
        ``metrics_access``: who may read ``/metrics`` (None: nobody)."""
        self.upstreams = dict(upstreams)
        self.config = config = config or GatewayConfig()
        self.on_startup, self.on_shutdown = list(on_startup), list(on_shutdown)
        self.started_at = time.time()
        self.openapi = MergedOpenApi(self.upstreams, STREAM_OPENAPI if stream is not None else None)
        self.verifier: Verifier | None = verifier
        self.edge_auth = verifier is not None
        if limiter is None and config.rate_limit_enabled:
            limiter = make_limiter(config.redis_url)
        self.limiter = limiter
        self.per_ip, self.per_user, self.per_auth = config.per_ip, config.per_user, config.auth
        self.cors = edge.Cors(config.cors_origins)
        self.max_body = config.max_body_bytes
        self.webapp, self.stream = webapp, stream
        self.metrics, self.metrics_access = metrics.EdgeMetrics(), metrics_access
        self._areas = {area: self.upstreams[s] for area, s in ROUTES.items() if s in self.upstreams}

    # -- the request path ----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._lifespan(receive, send)
            return
        started = time.perf_counter()
        authorization = origin = incoming_id = incoming_trace = length = host = proto = None
        connection = acrm = acrh = None
        chunked = False
        forward: Headers = []
        special = _SPECIAL
        for pair in scope["headers"]:
            kind = special.get(pair[0])
            if kind is None:
                forward.append(pair)
            elif kind == _AUTHORIZATION:
                authorization = pair[1]
                forward.append(pair)
            elif kind == _ORIGIN:
                origin = pair[1]
                forward.append(pair)
            elif kind == _REQUEST_ID:
                incoming_id = pair[1]
            elif kind == _TRACEPARENT:
                incoming_trace = pair[1]
            elif kind == _LENGTH:
                length = pair[1]
            elif kind == _CHUNKED:
                chunked = True
            elif kind == _HOST:
                host = pair[1]
            elif kind == _PROTO:
                proto = pair[1]
            elif kind == _CONNECTION:
                connection = pair[1]
            elif kind == _ACRM:
                acrm = pair[1]
            elif kind == _ACRH:
                acrh = pair[1]
                forward.append(pair)
        if connection is not None:
            forward = _drop_connection_listed(forward, connection)

        request_id = edge.request_id(incoming_id)
        path: str = scope["path"]
        scheme = b"https" if scope.get("scheme") == "https" else b"http"  # uvicorn applied trusted proxies
        secure = scheme == b"https" or proto == b"https"  # HSTS is ignored over plain HTTP anyway
        extra: Headers = [*(edge.DOCS_SECURITY if path == "/docs" else edge.API_SECURITY)]
        extra.append((b"x-request-id", request_id))
        if secure:
            extra.append(edge.HSTS)
        if origin is not None and self.cors.enabled and self.cors.allows(origin):
            if scope["method"] == "OPTIONS" and acrm is not None:
                await send_whole(send, 204, [*extra, *self.cors.preflight_headers(origin, acrh)], b"")
                return
            extra += self.cors.response_headers(origin)
        elif scope["method"] == "OPTIONS" and acrm is not None and origin is not None:
            await self._error(send, 403, "cors_forbidden", "Origin not allowed", extra, request_id)
            return

        upstream, area = None, ""
        if path.startswith("/api/"):
            area = path[5:].split("/", 1)[0]
            upstream = self._areas.get(area)
        if upstream is None:
            if path == STREAM_PATH and self.stream is not None:
                await self.stream.serve(scope, receive, send, authorization, extra)
                return
            await self._own(path, scope, send, extra, request_id)
            return

        client = scope.get("client")
        ip: str = client[0] if client else "unknown"
        principal: Principal | None = None
        if self.verifier is not None and path not in PUBLIC_API_PATHS:
            try:
                principal = await self.verifier.verify(bearer(authorization))
            except TokenError as exc:
                if self.limiter is not None and self.per_ip is not None:
                    decision = await self.limiter.hit([("ip:" + ip, self.per_ip)])
                    if decision is not None and not decision.allowed:
                        await self._too_many(send, decision, extra, request_id)
                        return
                challenge = b"Bearer" if authorization is None else b'Bearer error="invalid_token"'
                extra.append((b"www-authenticate", challenge))
                await self._error(send, 401, "unauthorized", str(exc), extra, request_id)
                return
            except Exception:  # the verifier itself failed (keys unreachable…): not the caller's fault
                log.exception("Token verification failed at the gateway")
                extra.append((b"retry-after", b"1"))
                await self._error(
                    send, 503, "auth_unavailable", "Cannot verify tokens now", extra, request_id
                )
                return

        if self.limiter is not None:
            buckets: list[Bucket] = []
            if self.per_ip is not None:
                buckets.append(("ip:" + ip, self.per_ip))
            if principal is not None and self.per_user is not None:
                buckets.append(("user:" + principal.id, self.per_user))
            if self.per_auth is not None and path in AUTH_LIMITED_PATHS:
                buckets.append(("auth:" + ip, self.per_auth))
            if buckets:
                decision = await self.limiter.hit(buckets)
                if decision is not None:
                    if not decision.allowed:
                        await self._too_many(send, decision, extra, request_id)
                        return
                    extra += decision.headers()

        body = b""
        if length is not None:
            try:
                size = int(length)
            except ValueError:
                await self._error(send, 400, "bad_request", "Invalid Content-Length", extra, request_id)
                return
            if size > self.max_body:
                await self._payload_too_large(send, extra, request_id)
                return
            chunked = chunked or size > 0
        if chunked:
            try:
                body = await read_body(receive, self.max_body)
            except BodyTooLarge:
                await self._payload_too_large(send, extra, request_id)
                return
            except ClientGone:  # a truncated body is never forwarded
                return

        forward.append((b"x-request-id", request_id))
        forward.append((b"traceparent", edge.traceparent(incoming_trace)))
        forward.append((b"x-forwarded-for", ip.encode()))
        forward.append((b"x-forwarded-proto", scheme))
        if host is not None:
            forward.append((b"x-forwarded-host", host))
        status = await upstream.forward(scope, receive, send, forward, body, extra)
        self.metrics.observe(scope["method"], "/api/" + area, status, time.perf_counter() - started)

    # -- answers of the gateway itself ---------------------------------------------------------------------

    async def _own(self, path: str, scope: Scope, send: Send, extra: Headers, request_id: bytes) -> None:
        if path in ("/health", "/api/health"):
            status, body = await self.health()
            await send_response(send, status, orjson.dumps(body, default=str), b"application/json", extra)
        elif path == "/ready":
            await send_json(send, 200, {"status": "ready", "service": "gateway"}, extra)
        elif path == "/openapi.json":
            await send_response(send, 200, await self.openapi.document(), b"application/json", extra)
        elif path == "/metrics":
            await self._metrics(scope, send, extra, request_id)
        elif path == "/docs":
            await send_response(send, 200, SWAGGER_HTML.encode(), b"text/html; charset=utf-8", extra)
        elif self.webapp is not None and self.webapp.owns(scope["method"], path):
            await self.webapp.serve(scope, send, extra)
        else:
            await self._error(send, 404, "not_found", f"No route for {path}", extra, request_id)

    async def _error(
        self, send: Send, status: int, code: str, message: str, extra: Headers, request_id: bytes
    ) -> None:
        body = {"error": code, "message": message, "requestId": request_id.decode("latin-1")}
        await send_json(send, status, body, extra)
        self.metrics.rejected(status, code)

    async def _metrics(self, scope: Scope, send: Send, extra: Headers, request_id: bytes) -> None:
        """Prometheus text, for METRICS_TOKEN or an ADMIN's token (``crm.platform.metrics_access``)."""
        authorization = next((v for k, v in scope["headers"] if k == b"authorization"), None)
        allowed = (
            UNAUTHORIZED if self.metrics_access is None else await self.metrics_access.check(authorization)
        )
        if allowed != ALLOWED:
            if allowed == UNAUTHORIZED:
                extra = [*extra, (b"www-authenticate", b"Bearer")]
            code = "unauthorized" if allowed == UNAUTHORIZED else "forbidden"
            await self._error(
                send, allowed, code, "METRICS_TOKEN or an ADMIN token required", extra, request_id
            )
            return
        accept = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"accept"), None)
        body, content_type = await metrics.render(accept)
        await send_response(send, 200, body, content_type.encode(), extra)

    async def _too_many(self, send: Send, decision: Decision, extra: Headers, request_id: bytes) -> None:
        wait = max(1, math.ceil(decision.retry_after))
        rate = decision.rate
        message = f"Too many requests: at most {rate.limit} per {rate.period:g} s; retry in {wait} s"
        await self._error(send, 429, "rate_limited", message, [*extra, *decision.headers()], request_id)

    async def _payload_too_large(self, send: Send, extra: Headers, request_id: bytes) -> None:
        # Not "Connection: close": closing on a client still sending makes the kernel reset the connection,
        # and the client may never read this answer. uvicorn discards the unread rest of the body instead.
        message = f"Request body over {self.max_body // 1_048_576} MB"
        await self._error(send, 413, "payload_too_large", message, extra, request_id)

    async def health(self) -> tuple[int, dict[str, Any]]:
        """Each service's readiness with its latency, and the gateway's own state."""
        names = sorted(self.upstreams)
        results = await asyncio.gather(*(self.upstreams[n].ready() for n in names))
        services = dict(zip(names, results, strict=True))
        healthy = all(r["status"] == "up" for r in results)
        rate_limit: dict[str, Any] = {"backend": "off"}
        if self.limiter is not None:
            rate_limit = await self.limiter.status()
            rate_limit["policies"] = {
                name: rate.policy
                for name, rate in (("ip", self.per_ip), ("user", self.per_user), ("auth", self.per_auth))
                if rate is not None
            }
        gateway_ok = rate_limit.get("redis", "ok") == "ok"  # Redis down: limits fail open, the gateway serves
        gateway = {
            "status": "up" if gateway_ok else "degraded",
            "uptimeSeconds": round(time.time() - self.started_at),
            "edgeAuth": "on" if self.edge_auth else "off (services verify)",
            "rateLimit": rate_limit,
            "cors": list(self.config.cors_origins),
        }
        body = {"status": "ok" if healthy else "degraded", "gateway": gateway, "services": services}
        return (200 if healthy else 503), body

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    for upstream in self.upstreams.values():
                        await upstream.start()
                    for hook in self.on_startup:
                        await hook()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    raise
                # What exists now (modules, apps, pools) lives as long as the process: out of the collector's
                # sight, a full collection no longer scans it (~25 ms here: a pause requests would wait on).
                gc.collect()
                gc.freeze()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def drain(self) -> None:
        """The server is stopping: end the answers that would last (live streams) so it need not wait."""
        if self.stream is not None:
            self.stream.drain()

    async def close(self) -> None:
        self.drain()
        for hook in self.on_shutdown:
            await hook()
        for upstream in self.upstreams.values():
            await upstream.close()
        if self.limiter is not None:
            await self.limiter.close()


def _drop_connection_listed(headers: Headers, connection: bytes) -> Headers:
    """Also drop the headers a client's ``Connection`` header names as hop-by-hop (RFC 9110 §7.6.1)."""
    listed = {token.strip().lower() for token in connection.split(b",")} - _KEEP_ALIVE_TOKENS
    if not listed:
        return headers
    return [pair for pair in headers if pair[0] not in listed]
