"""sales-activity-service background work: the due-soon check."""

from __future__ import annotations

import asyncio
from datetime import datetime

from crm.platform.runtime import ServiceRuntime
from crm.platform.unit_of_work import UnitOfWork
from crm.services.sales_activity import service
from crm.services.sales_activity.config import SalesActivityConfig


async def check_due_soon(uow: UnitOfWork, *, now: datetime | None = None, batch: int = 500) -> int:
    """One pass of the check: TASK_DUE_SOON for every open task due within 24 hours not yet notified, in
    transactions of ``batch`` tasks. Returns how many were notified. Safe with several instances."""
    total = 0
    while True:
        async with uow() as tx:
            count = await service.notify_due_soon(tx, now=now, batch=batch)
        total += count
        if count < batch:
            return total


async def due_soon_check(runtime: ServiceRuntime) -> None:
    """Run the check now and then every interval, until cancelled; a failed pass is logged and retried."""
    config: SalesActivityConfig = runtime.config
    interval = config.due_soon_check_interval_seconds
    while True:
        try:
            notified = await check_due_soon(runtime.uow)
            if notified:
                runtime.log.info("⏰ %d task(s) due within 24 hours notified", notified)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            runtime.log.error("❌ Due-soon check failed: %s: %s", type(exc).__name__, exc)
        await asyncio.sleep(interval)
