"""``crm db``: each service's database migrations."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from crm.cli.common import err, fail, new_typer
from crm.platform.settings import ConfigError

app = new_typer("Database migrations of each service.")


@app.command("migrate")
def db_migrate(
    service: Annotated[str, typer.Argument(help="a service name, or 'all'")] = "all",
) -> None:
    """Apply each service's migrations to its DATABASE_URL (embedded: its SQLite file)."""
    from crm.modes.services import SERVICES, normalise
    from crm.platform.db import Database
    from crm.platform.settings import Settings

    try:
        names = list(SERVICES) if service == "all" else [normalise(service)]
    except KeyError as exc:
        fail(str(exc.args[0]))

    async def run() -> None:
        for name in names:
            settings = Settings.from_env(name)
            db = Database(settings.database_url)
            try:
                await db.migrate(SERVICES[name].migrations, lock_name=f"crm-migrate-{name}")
            finally:
                await db.dispose()
            err.print(f"[green]✔[/] {name}: migrated")

    try:
        asyncio.run(run())
    except ConfigError as exc:
        fail(str(exc))
