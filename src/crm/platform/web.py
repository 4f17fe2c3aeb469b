"""The app factory every service uses: lifespan, /health, /ready and /metrics, request ids and trace context,
and errors as JSON."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm.platform import logs, metrics
from crm.platform.db import database_unavailable
from crm.platform.errors import AppError
from crm.platform.logs import request_id_var, service_var
from crm.platform.metrics_access import ALLOWED, UNAUTHORIZED, MetricsAccess
from crm.platform.nul import refuse_nul
from crm.platform.responses import declare_errors
from crm.platform.runtime import ServiceRuntime
from crm.platform.tracing import Tracer, current_trace, new_trace_id, parse_traceparent
from crm.platform.unit_of_work import UnitOfWork

access_log = logging.getLogger("crm.access")


def create_service_app(runtime: ServiceRuntime, *, manage_lifespan: bool = True) -> FastAPI:
    """The ASGI app of one service. With ``manage_lifespan=False`` the caller starts/stops the runtime
    (the embedded mode runs all runtimes under the gateway's lifespan)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if manage_lifespan:
            await runtime.start()
        try:
            yield
        finally:
            if manage_lifespan:
                await runtime.stop()

    app = FastAPI(
        title=runtime.spec.title,
        version="1.0.0",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
        dependencies=[Depends(refuse_nul)],
    )
    app.state.runtime = runtime
    app.state.tokens = runtime.tokens
    for router in runtime.spec.routers:
        declare_errors(router)
        app.include_router(router)
    install_error_handlers(app)
    app.add_middleware(
        ObservabilityMiddleware,
        service=runtime.label,
        tracer=runtime.tracer,
        http_metrics=runtime.metrics.http,
    )

    @app.get("/health", tags=["health"], include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": runtime.spec.name}

    @app.get("/ready", tags=["health"], include_in_schema=False)
    async def ready() -> JSONResponse:
        checks = await runtime.readiness()
        ok = checks.get("database") == "ok"
        return JSONResponse(
            {"status": "ready" if ok else "not ready", "service": runtime.spec.name, "checks": checks},
            status_code=200 if ok else 503,
        )

    access = MetricsAccess(runtime.settings.metrics_token.value, runtime.verifier)

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    async def prometheus_metrics(request: Request) -> Response:
        """Prometheus text format; in embedded mode, every service of the process (label ``service``). For
        METRICS_TOKEN or an ADMIN's token only (``crm.platform.metrics_access``)."""
        allowed = await access.check(request.headers.get("authorization"))
        if allowed != ALLOWED:
            headers = {"WWW-Authenticate": "Bearer"} if allowed == UNAUTHORIZED else None
            message = "METRICS_TOKEN or an ADMIN token required"
            code = "unauthorized" if allowed == UNAUTHORIZED else "forbidden"
            return JSONResponse(error_body(code, message), status_code=allowed, headers=headers)
        body, content_type = await metrics.render(request.headers.get("accept"))
        return Response(body, media_type=content_type)

    return app


async def get_uow(request: Request) -> UnitOfWork:  # async: FastAPI runs a plain `def` in a thread
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime.uow


UoW = Annotated[UnitOfWork, Depends(get_uow)]


def client_ip(request: Request) -> str | None:
    """The caller's address: the first X-Forwarded-For hop (set by our gateway), else the peer."""
    forwarded = request.headers.get("x-forwarded-for", "")
    if forwarded:
        return forwarded.split(",", 1)[0].strip()[:64] or None
    return request.client.host if request.client else None


def error_body(code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": message, "requestId": request_id_var.get()}
    if fields:
        body["fields"] = fields
    return body


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(_request: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.fields), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields: dict[str, str] = {}
        for error in exc.errors():
            location = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
            fields.setdefault(".".join(location) or "body", str(error.get("msg", "invalid")))
        return JSONResponse(
            error_body("validation_error", "The request has invalid fields", fields), status_code=422
        )

    # Starlette's class: also the framework's own (a body that is not UTF-8 → 400, an unknown path → 404).
    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {
            400: "bad_request",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
        }
        return JSONResponse(
            error_body(codes.get(exc.status_code, "error"), str(exc.detail)),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(OSError)
    @app.exception_handler(SQLAlchemyError)
    async def database_error(request: Request, exc: Exception) -> JSONResponse:
        # Handled here, not by the catch-all below (which Starlette re-raises, dropping the connection).
        if not database_unavailable(exc):
            return await unexpected(request, exc)
        # A restart or failover of the database: nothing was done, the client may retry.
        logging.getLogger("crm.web").warning("🔁 Database unavailable: %s: %s", type(exc).__name__, exc)
        return JSONResponse(
            error_body("service_unavailable", "The service's database is unavailable; retry shortly"),
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        logging.getLogger("crm.web").exception("Unhandled error")
        return JSONResponse(error_body("internal_error", "Internal server error"), status_code=500)


_OWN_HEADERS = (b"x-request-id", b"traceresponse")  # an outer layer (the gateway) answers with its own
_PROBES = frozenset({"/health", "/ready", "/metrics"})  # polled every few seconds: access lines at DEBUG only


def route_template(scope: Scope) -> str:
    """The matched route's template (``/api/customers/{customer_id}``), never the raw path: one series per
    route, whatever the ids. ``unmatched`` for a path no route serves."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class ObservabilityMiddleware:
    """Pure ASGI, for every service and the gateway; per request it:

    - takes ``X-Request-ID`` or makes one, and echoes it;
    - continues the caller's W3C ``traceparent`` (or starts a trace) in a server span, so the log lines and
      the events of this request carry its trace id; echoes it as ``traceresponse``;
    - counts the request and its latency by route template and status (``crm_http_*``);
    - writes one access line (INFO with ``LOG_FORMAT=json``, DEBUG otherwise).

    ``propagate=True`` (the gateway) also hands the request id and its span's ``traceparent`` on to the
    app it wraps, so the upstream service continues the same trace."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        tracer: Tracer | None = None,
        http_metrics: metrics.HttpMetrics | None = None,
        route_of: Callable[[Scope], str] = route_template,
        propagate: bool = False,
    ) -> None:
        self.app, self.service = app, service
        self.tracer = tracer or Tracer(service)
        self.metrics = http_metrics or metrics.HttpMetrics(service)
        self.route_of, self.propagate = route_of, propagate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming, traceparent = b"", None
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                incoming = value
            elif key == b"traceparent":
                traceparent = value
        request_id = incoming.decode("latin-1") if 0 < len(incoming) <= 128 else new_trace_id()
        method = scope["method"]
        # The span is begun and made current by hand (not a `with`): this runs on every request.
        span = self.tracer.begin(method, kind="server", parent=parse_traceparent(traceparent))
        trace_token = current_trace.set(span.context)
        request_token = request_id_var.set(request_id)
        service_token = service_var.set(self.service)
        trace_header = span.context.traceparent.encode()
        if self.propagate:
            scope = dict(scope)
            kept = [h for h in scope["headers"] if h[0] not in (b"x-request-id", b"traceparent")]
            scope["headers"] = [*kept, (b"x-request-id", request_id.encode()), (b"traceparent", trace_header)]
        started = time.perf_counter()
        status = 500

        async def send_with_context(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", ()) if h[0].lower() not in _OWN_HEADERS]
                headers += ((b"x-request-id", request_id.encode()), (b"traceresponse", trace_header))
                message["headers"] = headers
            await send(message)

        error: BaseException | None = None
        try:
            await self.app(scope, receive, send_with_context)
        except BaseException as exc:
            error = exc
            raise
        finally:
            elapsed = time.perf_counter() - started
            route = self.route_of(scope)
            self.metrics.observe(method, route, status, elapsed)
            if self.tracer.exporting:
                span.rename(f"{method} {route}")
                span.set_attribute("http.request.method", method)
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                span.set_attribute("crm.request_id", request_id)
                span.end(error if isinstance(error, Exception) else None)
            level = logging.DEBUG if route in _PROBES else logs.access_level
            if access_log.isEnabledFor(level):
                self._access_line(level, method, scope["path"], route, status, elapsed)
            service_var.reset(service_token)
            request_id_var.reset(request_token)
            current_trace.reset(trace_token)

    @staticmethod
    def _access_line(level: int, method: str, path: str, route: str, status: int, elapsed: float) -> None:
        access_log.log(
            level,
            "%s %s %d %.1fms",
            method,
            path,
            status,
            elapsed * 1000,
            extra={
                "http": {
                    "method": method,
                    "path": path,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                }
            },
        )
