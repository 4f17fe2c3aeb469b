"""A database that cannot be reached (restart, failover) is a 503 the client may retry, never a 500."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError, OperationalError

from crm.platform.web import install_error_handlers


def app_raising(exc: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/")
    async def route() -> None:
        raise exc

    return app


async def status_of(exc: Exception) -> httpx.Response:
    transport = httpx.ASGITransport(app=app_raising(exc), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get("/")


async def test_a_refused_or_dropped_database_connection_is_503_with_retry_after() -> None:
    for exc in (
        ConnectionRefusedError(111, "Connection refused"),
        OperationalError("SELECT 1", {}, Exception("the database system is shutting down")),
    ):
        response = await status_of(exc)
        assert response.status_code == 503, exc
        assert response.headers["retry-after"] == "1"
        assert response.json()["error"] == "service_unavailable"


async def test_a_database_error_that_is_not_about_reaching_it_stays_a_500() -> None:
    response = await status_of(IntegrityError("INSERT", {}, Exception("duplicate key value")))
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
