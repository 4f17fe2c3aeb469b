"""sales-activity-service wiring."""

from __future__ import annotations

from pathlib import Path

from crm.contracts import ALL_TOPIC_SPECS
from crm.platform.runtime import ServiceSpec
from crm.services.sales_activity.models import INBOX, OUTBOX

SPEC = ServiceSpec(
    name="sales_activity",
    title="sales-activity-service",
    routers=[],
    migrations=Path(__file__).parent / "migrations",
    outbox_table=OUTBOX,
    inbox_table=INBOX,
    topics=ALL_TOPIC_SPECS,
)
