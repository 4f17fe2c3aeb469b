"""opportunity-service wiring."""

from __future__ import annotations

from pathlib import Path

from crm.contracts import ALL_TOPIC_SPECS
from crm.platform.runtime import ServiceSpec
from crm.services.opportunity.api import router
from crm.services.opportunity.approvals_api import router as approvals_router
from crm.services.opportunity.handlers import EVENT_HANDLERS
from crm.services.opportunity.models import INBOX, OUTBOX

SPEC = ServiceSpec(
    name="opportunity",
    title="opportunity-service",
    routers=[router, approvals_router],
    migrations=Path(__file__).parent / "migrations",
    outbox_table=OUTBOX,
    inbox_table=INBOX,
    handlers=EVENT_HANDLERS,
    topics=ALL_TOPIC_SPECS,
)
