"""``crm analytics``: recompute analytics-service's read models from the topics."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from crm.cli.common import err, fail, new_typer
from crm.platform.bus import BusError
from crm.platform.settings import ConfigError

app = new_typer("analytics-service read models.")


@app.command("rebuild")
def rebuild_command(
    idle: Annotated[float, typer.Option(help="seconds without a record that mean the end")] = 1.0,
) -> None:
    """Clear the read models and replay every topic from its beginning (notification read state is kept).
    Safe while analytics runs; as complete as the topics' retention (7 days)."""
    from crm.platform.bus.local_log import LocalLogBus
    from crm.platform.db import Database
    from crm.platform.settings import Settings
    from crm.services.analytics.app import SPEC
    from crm.services.analytics.rebuild import RebuildReport, rebuild

    try:
        settings = Settings.from_env("analytics")
    except ConfigError as exc:
        fail(str(exc))

    async def run() -> RebuildReport:
        if settings.kafka.enabled:
            from crm.platform.bus.kafka import KafkaBus

            bus: KafkaBus | LocalLogBus = KafkaBus(settings.kafka)
        else:
            bus = LocalLogBus(settings.data_dir / "bus.sqlite3")
        db = Database(settings.database_url)
        try:
            await db.migrate(SPEC.migrations, lock_name="crm-migrate-analytics")
            return await rebuild(db, bus, inbox_consumer=settings.kafka.client_id, idle_timeout=idle)
        finally:
            await bus.close()
            if isinstance(bus, LocalLogBus):
                await bus.dispose()
            await db.dispose()

    try:
        report = asyncio.run(run())
    except BusError as exc:
        fail(str(exc))
    err.print(
        f"[green]✔[/] rebuilt: {report.records} records, {report.applied} applied, "
        f"{report.duplicates} duplicates, {report.skipped} skipped in {report.seconds:.1f}s"
    )
    if report.incomplete_topics:
        err.print(f"[yellow]![/] history pruned by retention on: {', '.join(report.incomplete_topics)}")
