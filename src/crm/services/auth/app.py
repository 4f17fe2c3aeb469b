"""auth-service wiring: its routes, tables, migrations and (no) event handlers."""

from __future__ import annotations

from pathlib import Path

from crm.contracts import ALL_TOPIC_SPECS
from crm.platform.runtime import ServiceSpec
from crm.services.auth.api import router
from crm.services.auth.bootstrap import create_first_admin
from crm.services.auth.config import AuthConfig
from crm.services.auth.models import INBOX, OUTBOX
from crm.services.auth.users_api import router as users_router

SPEC = ServiceSpec(
    name="auth",
    title="auth-service",
    routers=[router, users_router],
    migrations=Path(__file__).parent / "migrations",
    outbox_table=OUTBOX,
    inbox_table=INBOX,
    topics=ALL_TOPIC_SPECS,
    config=AuthConfig.from_env,
    on_start=[create_first_admin],
)
