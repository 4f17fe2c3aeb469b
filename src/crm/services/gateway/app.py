"""The gateway app: routes ``/api/<area>/...`` to the owning service, aggregates health.

A plain Starlette-level ASGI callable rather than a FastAPI app: every request passes here, so the routing
is one dict lookup and no per-request validation or dependency resolution.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

import orjson
from starlette.types import Receive, Scope, Send

from crm.services.gateway.openapi import SWAGGER_HTML, MergedOpenApi
from crm.services.gateway.routes import service_for
from crm.services.gateway.upstreams import send_json, send_response

Hook = Callable[[], Awaitable[None]]


class Upstream(Protocol):
    name: str

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...
    async def ready(self) -> dict[str, Any]: ...


class Gateway:
    def __init__(
        self,
        upstreams: Mapping[str, Upstream],
        *,
        on_startup: Sequence[Hook] = (),
        on_shutdown: Sequence[Hook] = (),
    ) -> None:
        self.upstreams = dict(upstreams)
        self.on_startup, self.on_shutdown = list(on_startup), list(on_shutdown)
        self.started_at = time.time()
        self.openapi = MergedOpenApi(self.upstreams)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        service = service_for(path)
        if service is not None and service in self.upstreams:
            await self.upstreams[service](scope, receive, send)
        elif path in ("/health", "/api/health"):
            await self._health(send)
        elif path == "/ready":
            await send_json(send, 200, {"status": "ready", "service": "gateway"})
        elif path == "/openapi.json":
            await send_response(send, 200, await self.openapi.document(), b"application/json")
        elif path == "/docs":
            await send_response(send, 200, SWAGGER_HTML.encode(), b"text/html; charset=utf-8")
        else:
            await send_json(send, 404, {"error": "not_found", "message": f"No route for {path}"})

    async def _health(self, send: Send) -> None:
        names = sorted(self.upstreams)
        results = await asyncio.gather(*(self.upstreams[n].ready() for n in names))
        services = dict(zip(names, results, strict=True))
        healthy = all(r["status"] == "up" for r in results)
        body = {
            "status": "ok" if healthy else "degraded",
            "gateway": {"status": "up", "uptimeSeconds": round(time.time() - self.started_at)},
            "services": services,
        }
        await send_json(send, 200 if healthy else 503, orjson.loads(orjson.dumps(body, default=str)))

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
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for hook in self.on_shutdown:
                    await hook()
                for upstream in self.upstreams.values():
                    await upstream.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
