"""sales-activity-service wiring."""

from __future__ import annotations

from pathlib import Path

from crm.contracts import ALL_TOPIC_SPECS
from crm.platform.runtime import ServiceSpec
from crm.services.sales_activity.api import meetings_router, tasks_router
from crm.services.sales_activity.config import SalesActivityConfig
from crm.services.sales_activity.handlers import EVENT_HANDLERS
from crm.services.sales_activity.jobs import due_soon_check
from crm.services.sales_activity.models import INBOX, OUTBOX

SPEC = ServiceSpec(
    name="sales_activity",
    title="sales-activity-service",
    routers=[meetings_router, tasks_router],
    migrations=Path(__file__).parent / "migrations",
    outbox_table=OUTBOX,
    inbox_table=INBOX,
    handlers=EVENT_HANDLERS,
    topics=ALL_TOPIC_SPECS,
    jobs=[due_soon_check],
    config=SalesActivityConfig.from_env,
)
