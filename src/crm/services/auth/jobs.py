"""auth-service's background work; safe with several instances (each step is idempotent)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from crm.platform.runtime import ServiceRuntime
from crm.services.auth.config import AuthConfig
from crm.services.auth.keys import store_of
from crm.services.auth.models import LoginFailure, RefreshToken, RevokedToken

KEYS_RELOAD_SECONDS = 10.0  # a rotation (by another instance or the CLI) is seen well within its grace
PRUNE_SECONDS = 3600.0
# Used refresh tokens are kept past their expiry a little, so a late replay is still recognised as reuse.
REFRESH_KEPT = timedelta(days=1)


async def reload_signing_keys(runtime: ServiceRuntime) -> None:
    """Reread the signing keys every few seconds, so every instance switches keys at the same moment."""
    store = store_of(runtime)
    if store is None:
        return
    while True:
        await asyncio.sleep(KEYS_RELOAD_SECONDS)
        try:
            await store.reload()
        except Exception as exc:  # the database may be briefly unreachable: keep the keys we have
            runtime.log.warning("🔁 Signing keys not reloaded: %s", type(exc).__name__)


async def prune_expired_credentials(runtime: ServiceRuntime) -> None:
    """Hourly: forget revoked access tokens and refresh tokens past their expiry, and old login failures."""
    config: AuthConfig = runtime.config
    while True:
        await asyncio.sleep(PRUNE_SECONDS)
        try:
            await prune(runtime, config)
        except Exception as exc:
            runtime.log.warning("🔁 Expired credentials not pruned: %s", type(exc).__name__)


async def prune(runtime: ServiceRuntime, config: AuthConfig) -> None:
    now = datetime.now(UTC)
    async with runtime.db.transaction() as session:
        await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
        await session.execute(delete(RefreshToken).where(RefreshToken.expires_at < now - REFRESH_KEPT))
        await session.execute(delete(LoginFailure).where(LoginFailure.at < now - config.failure_window))
