"""auth-service wiring: its routes, tables, migrations, signing keys and (no) event handlers."""

from __future__ import annotations

from pathlib import Path

from crm.contracts import ALL_TOPIC_SPECS
from crm.platform.runtime import ServiceSpec
from crm.services.auth.api import router
from crm.services.auth.api_keys_api import router as api_keys_router
from crm.services.auth.bootstrap import create_first_admin
from crm.services.auth.config import AuthConfig
from crm.services.auth.jobs import prune_expired_credentials, reload_signing_keys
from crm.services.auth.keys import open_signing_keys
from crm.services.auth.models import INBOX, OUTBOX
from crm.services.auth.users_api import router as users_router

SPEC = ServiceSpec(
    name="auth",
    title="auth-service",
    routers=[router, users_router, api_keys_router],
    migrations=Path(__file__).parent / "migrations",
    outbox_table=OUTBOX,
    inbox_table=INBOX,
    topics=ALL_TOPIC_SPECS,
    config=AuthConfig.from_env,
    on_start=[open_signing_keys, create_first_admin],
    jobs=[reload_signing_keys, prune_expired_credentials],
)
