"""The embedded CRM in the test's own event loop, reached through its gateway with httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from crm.modes.embedded import Embedded, build_embedded

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "Admin-Password-1"


@asynccontextmanager
async def running_embedded(data_dir: Path, **env: str) -> AsyncIterator[tuple[Embedded, httpx.AsyncClient]]:
    environ = {
        "LOG_LEVEL": "INFO",
        "OUTBOX_POLL_INTERVAL_MS": "200",
        "CRM_ADMIN_EMAIL": ADMIN_EMAIL,
        "CRM_ADMIN_PASSWORD": ADMIN_PASSWORD,
        **env,
    }
    crm = build_embedded(data_dir, environ)
    for hook in crm.gateway.on_startup:
        await hook()
    transport = httpx.ASGITransport(app=crm.gateway)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://crm.test") as client:
            yield crm, client
    finally:
        for hook in crm.gateway.on_shutdown:
            await hook()


async def register(
    client: httpx.AsyncClient, email: str, *, name: str = "Test User", role: str = "USER"
) -> dict:
    """The guide's test 1 request; returns the response body (asserts 201)."""
    response = await client.post(
        "/api/auth/register", json={"email": email, "password": "Password123!", "name": name, "role": role}
    )
    assert response.status_code == 201, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(
    crm: Embedded, role: str, *, user_id: str | None = None, email: str | None = None
) -> tuple[str, str]:
    """(user id, bearer token) for a caller of ``role``, minted by auth's signer (EdDSA with auth's current
    key, or HS256 when JWT_SECRET is set) without an account: services trust the token's claims, so this is
    how service tests act as a MANAGER or an ADMIN. A USER_DELETED for ``user_id`` revokes it, as any."""
    import uuid

    user_id = user_id or str(uuid.uuid4())
    token = crm.runtimes["auth"].tokens.issue(
        user_id=user_id,
        email=email or f"{role.lower()}-{user_id[:8]}@example.com",
        role=role,
        name=role.title(),
    )
    return user_id, token


async def login(client: httpx.AsyncClient, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> dict:
    """POST /api/auth/login; returns the body (asserts 200). Defaults to the first administrator."""
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()
