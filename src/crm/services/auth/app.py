"""auth-service wiring: its routes, tables, migrations and (no) event handlers."""

from __future__ import annotations

from pathlib import Path

from crm.contracts import ALL_TOPIC_SPECS
from crm.platform.runtime import ServiceSpec
from crm.services.auth.api import router
from crm.services.auth.models import INBOX, OUTBOX

SPEC = ServiceSpec(
    name="auth",
    title="auth-service",
    routers=[router],
    migrations=Path(__file__).parent / "migrations",
    outbox_table=OUTBOX,
    inbox_table=INBOX,
    topics=ALL_TOPIC_SPECS,
)
