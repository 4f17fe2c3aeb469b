"""analytics-service wiring."""

from __future__ import annotations

from pathlib import Path

from crm.contracts import ALL_TOPIC_SPECS
from crm.platform.runtime import ServiceSpec
from crm.services.analytics.api import ROUTERS
from crm.services.analytics.handlers import EVENT_HANDLERS, PREPARE_BATCH
from crm.services.analytics.models import INBOX, OUTBOX

SPEC = ServiceSpec(
    name="analytics",
    title="analytics-service",
    routers=ROUTERS,
    migrations=Path(__file__).parent / "migrations",
    outbox_table=OUTBOX,
    inbox_table=INBOX,
    handlers=EVENT_HANDLERS,
    prepare_batch=PREPARE_BATCH,
    topics=ALL_TOPIC_SPECS,
)
