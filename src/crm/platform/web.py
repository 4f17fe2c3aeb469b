"""The app factory every service uses: lifespan, /health and /ready, request ids, and errors as JSON."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm.platform.errors import AppError
from crm.platform.logs import request_id_var
from crm.platform.runtime import ServiceRuntime
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
    )
    app.state.runtime = runtime
    app.state.tokens = runtime.tokens
    for router in runtime.spec.routers:
        app.include_router(router)
    install_error_handlers(app)
    app.add_middleware(RequestIdMiddleware)

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

    return app


def get_uow(request: Request) -> UnitOfWork:
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

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        codes = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
        return JSONResponse(
            error_body(codes.get(exc.status_code, "error"), str(exc.detail)),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        logging.getLogger("crm.web").exception("Unhandled error")
        return JSONResponse(error_body("internal_error", "Internal server error"), status_code=500)


class RequestIdMiddleware:
    """Pure ASGI (cheap): takes ``X-Request-ID`` or makes one, echoes it, logs one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if 0 < len(incoming) <= 128 else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.DEBUG):
                access_log.debug(
                    "%s %s %d %.1fms",
                    scope["method"],
                    scope["path"],
                    status,
                    (time.perf_counter() - started) * 1000,
                )
            request_id_var.reset(token)
