"""The first administrator: created on the first start of an empty auth database."""

from __future__ import annotations

import secrets
import sys

from crm.platform.errors import Conflict
from crm.platform.runtime import ServiceRuntime
from crm.services.auth import service
from crm.services.auth.config import AuthConfig


async def create_first_admin(runtime: ServiceRuntime) -> None:
    """From CRM_ADMIN_EMAIL / CRM_ADMIN_PASSWORD; with no password set, a random one is printed once to
    stderr (not through logging, so no log pipeline keeps it). Safe when several instances start at once."""
    config: AuthConfig = runtime.config
    password = config.admin_password.value or secrets.token_urlsafe(18)
    password_hash = await service.hashed_password(password, config.admin_email)
    try:
        async with runtime.uow() as tx:
            admin = await service.bootstrap_admin(tx, config.admin_email, password_hash)
    except Conflict:
        return  # another instance created it first
    if admin is None:
        return
    runtime.log.info("👤 First administrator created: %s", admin.email)
    if not config.admin_password:
        print(
            f"\n  First administrator: {admin.email}\n  Generated password (shown once): {password}\n"
            "  Set CRM_ADMIN_EMAIL / CRM_ADMIN_PASSWORD to choose them.\n",
            file=sys.stderr,
            flush=True,
        )
