"""``crm dev`` and ``crm serve``: run the CRM embedded, or one of its services."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from crm.cli.common import err, fail
from crm.platform.settings import ConfigError


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
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    if not server.started:
        raise typer.Exit(1)


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
        fail(str(exc))
    err.print(f"[bold green]CRM[/] embedded mode: http://{host}:{port}  (data: {data_dir})")
    _serve(embedded.gateway, host, port)


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
        fail(str(exc.args[0]))
    label = "gateway" if name == "gateway" else f"{name.replace('_', '-')}-service"
    try:
        configure_logging(
            label, level=os.environ.get("LOG_LEVEL", "INFO").upper(), fmt=os.environ.get("LOG_FORMAT", "text")
        )
        asgi = build_distributed(name)
        listen_port = port if port is not None else int(os.environ.get("PORT", "8000"))
    except ConfigError as exc:
        fail(str(exc))
    except ValueError:
        fail(f"PORT must be a whole number, got {os.environ.get('PORT')!r}")
    _serve(asgi, host, listen_port)
