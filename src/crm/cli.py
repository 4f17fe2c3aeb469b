"""The ``crm`` command: run the CRM (embedded or one service), and operate its databases.

Expected failures (a bad variable, a port in use) print one line naming the culprit and exit 2; no traces.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from crm.platform.settings import ConfigError

# Tracebacks never show local variables: they could hold a password or a token.
app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    help="An event-driven CRM on Apache Kafka.",
)
db_app = typer.Typer(
    no_args_is_help=True, pretty_exceptions_show_locals=False, help="Database migrations of each service."
)
app.add_typer(db_app, name="db")
docs_app = typer.Typer(
    no_args_is_help=True, pretty_exceptions_show_locals=False, help="Documentation generated from the code."
)
app.add_typer(docs_app, name="docs")
err = Console(stderr=True)


def _fail(message: str) -> None:
    err.print(f"[bold red]✖[/] {message}")
    raise typer.Exit(2)


def _serve(asgi: object, host: str, port: int) -> None:
    import uvicorn

    config = uvicorn.Config(
        asgi,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    try:
        server.run()
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    if not server.started:
        raise typer.Exit(1)


@app.command()
def dev(
    port: Annotated[int, typer.Option(help="gateway port")] = 8000,
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    data_dir: Annotated[Path, typer.Option(help="where the SQLite files live")] = Path(".crm-data"),
) -> None:
    """Run the whole CRM in one process: five services + gateway, SQLite, in-memory bus."""
    from crm.modes.embedded import build_embedded
    from crm.platform.logs import configure_logging

    try:
        configure_logging(
            "crm-dev",
            level=os.environ.get("LOG_LEVEL", "INFO").upper(),
            fmt=os.environ.get("LOG_FORMAT", "text"),
        )
        embedded = build_embedded(data_dir.expanduser().resolve())
    except ConfigError as exc:
        _fail(str(exc))
        return
    err.print(f"[bold green]CRM[/] embedded mode: http://{host}:{port}  (data: {data_dir})")
    _serve(embedded.gateway, host, port)


@app.command()
def serve(
    service: Annotated[
        str, typer.Argument(help="auth | customer | sales-activity | opportunity | analytics | gateway")
    ],
    port: Annotated[int | None, typer.Option(help="default: $PORT or 8000")] = None,
    host: Annotated[str, typer.Option(help="interface to listen on")] = "0.0.0.0",
) -> None:
    """Run one service in this process, configured by the environment (distributed mode)."""
    from crm.modes.distributed import build_distributed
    from crm.modes.services import normalise
    from crm.platform.logs import configure_logging

    try:
        name = normalise(service)
    except KeyError as exc:
        _fail(str(exc.args[0]))
        return
    label = "gateway" if name == "gateway" else f"{name.replace('_', '-')}-service"
    try:
        configure_logging(
            label, level=os.environ.get("LOG_LEVEL", "INFO").upper(), fmt=os.environ.get("LOG_FORMAT", "text")
        )
        asgi = build_distributed(name)
        listen_port = port if port is not None else int(os.environ.get("PORT", "8000"))
    except ConfigError as exc:
        _fail(str(exc))
        return
    except ValueError:
        _fail(f"PORT must be a whole number, got {os.environ.get('PORT')!r}")
        return
    _serve(asgi, host, listen_port)


@db_app.command("migrate")
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
        _fail(str(exc.args[0]))
        return

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
        _fail(str(exc))


@docs_app.command("events")
def docs_events(
    output: Annotated[Path, typer.Option(help="where to write the catalog")] = Path("docs/events.md"),
    check: Annotated[bool, typer.Option(help="fail if the file differs from the code")] = False,
) -> None:
    """Write the event catalog (topics, types, payloads, producers, consumers) as Markdown."""
    from crm.catalog_docs import render

    text = render()
    if check:
        if not output.exists() or output.read_text() != text:
            _fail(f"{output} is out of date: run `crm docs events`")
        err.print(f"[green]✔[/] {output} is up to date")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    err.print(f"[green]✔[/] wrote {output}")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
