"""customer-service wiring."""

from __future__ import annotations

from pathlib import Path

from crm.contracts import ALL_TOPIC_SPECS
from crm.platform.runtime import ServiceSpec
from crm.services.customer.api import router
from crm.services.customer.handlers import EVENT_HANDLERS
from crm.services.customer.models import INBOX, OUTBOX

SPEC = ServiceSpec(
    name="customer",
    title="customer-service",
    routers=[router],
    migrations=Path(__file__).parent / "migrations",
    outbox_table=OUTBOX,
    inbox_table=INBOX,
    handlers=EVENT_HANDLERS,
    topics=ALL_TOPIC_SPECS,
)
