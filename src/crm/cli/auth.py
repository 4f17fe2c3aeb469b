"""``crm auth``: auth-service operations on its own database."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from crm.cli.common import err, fail, new_typer
from crm.platform.settings import ConfigError

app = new_typer("auth-service operations: signing keys.")


@app.command("rotate-key")
def rotate_key(
    grace: Annotated[
        int,
        typer.Option(help="seconds the new key is published before it signs (verifiers fetch it meanwhile)"),
    ] = 60,
) -> None:
    """Make a new current signing key (EdDSA) in auth's DATABASE_URL (embedded: its SQLite file in
    CRM_DATA_DIR). Running auth instances switch to it after GRACE seconds; the old key stays published until
    every token it signed has expired, so no caller sees a refused token."""
    from datetime import timedelta

    from crm.modes.services import SERVICES
    from crm.platform.db import Database
    from crm.platform.settings import Settings
    from crm.services.auth.keys import rotate

    if grace < 0:
        fail("--grace must be 0 or more seconds")
    try:
        settings = Settings.from_env("auth")
    except ConfigError as exc:
        fail(str(exc))
    if settings.jwt_secret:
        err.print(
            "[yellow]![/] JWT_SECRET is set here: where it is set, tokens are HS256 and these keys are unused"
        )

    async def run() -> None:
        db = Database(settings.database_url)
        try:
            await db.migrate(SERVICES["auth"].migrations, lock_name="crm-migrate-auth")
            ttl = timedelta(minutes=settings.jwt_ttl_minutes)
            rotation = await rotate(db, ttl, grace=timedelta(seconds=grace))
        finally:
            await db.dispose()
        if not rotation.retiring:
            err.print(f"[green]✔[/] new signing key {rotation.key.kid}: signs now (there was none)")
            return
        err.print(f"[green]✔[/] new signing key {rotation.key.kid}: published now, signs in {grace}s")
        err.print(
            f"  {', '.join(rotation.retiring)} then stop signing and stay published "
            f"{settings.jwt_ttl_minutes} min more, until their last tokens expire"
        )
        if rotation.deleted:
            err.print(f"  deleted {rotation.deleted} old key(s) whose tokens have all expired")

    asyncio.run(run())
