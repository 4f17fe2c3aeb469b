"""Login throttling: too many failures within the window lock an account (the email given, whether or not it
exists, so the lock says nothing about which accounts exist) or a client IP, until enough of them age out.

Counted in auth's database so every instance agrees. Attempts refused while locked are not counted: a locked
account unlocks on schedule even while someone keeps trying.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, select

from crm.platform.unit_of_work import Tx
from crm.services.auth.config import AuthConfig
from crm.services.auth.models import LoginFailure

ACCOUNT, IP = "account", "ip"


async def retry_after(tx: Tx, config: AuthConfig, *, email: str | None, ip: str | None) -> int | None:
    """Seconds until a login for ``email`` (None: an API key) from ``ip`` may be tried again, or None if it
    may be now."""
    waits = []
    if email:
        waits.append(await _wait(tx, config, ACCOUNT, email.strip().lower(), config.max_failures_per_account))
    if ip:
        waits.append(await _wait(tx, config, IP, ip, config.max_failures_per_ip))
    found = [w for w in waits if w is not None]
    return max(found) if found else None


async def _wait(tx: Tx, config: AuthConfig, scope: str, key: str, limit: int) -> int | None:
    now = datetime.now(UTC)
    times = (
        await tx.session.scalars(
            select(LoginFailure.at)
            .where(
                LoginFailure.scope == scope,
                LoginFailure.key == key,
                LoginFailure.at > now - config.failure_window,
            )
            .order_by(LoginFailure.at)
        )
    ).all()
    if len(times) < limit:
        return None
    # Locked until enough failures leave the window that fewer than ``limit`` remain.
    unlock = times[len(times) - limit] + config.failure_window
    return max(1, math.ceil((unlock - now).total_seconds()))


async def record_failure(tx: Tx, config: AuthConfig, *, email: str | None, ip: str | None) -> None:
    now = datetime.now(UTC)
    await tx.session.execute(delete(LoginFailure).where(LoginFailure.at < now - config.failure_window))
    for scope, key in ((ACCOUNT, email.strip().lower() if email else None), (IP, ip)):
        if key:
            tx.session.add(LoginFailure(id=str(uuid.uuid4()), scope=scope, key=key[:320], at=now))


async def clear_account(tx: Tx, email: str) -> None:
    """A successful login forgets the account's failures (not the IP's)."""
    await tx.session.execute(
        delete(LoginFailure).where(LoginFailure.scope == ACCOUNT, LoginFailure.key == email.strip().lower())
    )
