"""``crm dev`` and ``crm serve``: run the CRM embedded, or one of its services."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from crm.cli.common import err, fail, writable_dir
from crm.platform.settings import ConfigError

# Peers whose X-Forwarded-For/-Proto uvicorn believes (comma-separated addresses or networks). Behind a load
# balancer, its addresses: otherwise every client shares the balancer's address (one rate-limit bucket).
# uvicorn walks X-Forwarded-For from the right, past the trusted hops: a client cannot spoof its address.
FORWARDED_DEFAULT = "127.0.0.1"


def server_config(asgi: object, host: str, port: int) -> Any:
    """The uvicorn configuration of ``crm dev`` and ``crm serve``."""
    import uvicorn

    return uvicorn.Config(
        asgi,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS") or FORWARDED_DEFAULT,
    )


def _serve(asgi: object, host: str, port: int) -> None:
    import uvicorn

    config = server_config(asgi, host, port)
    drain = getattr(asgi, "drain", None)

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: list[Any] | None = None) -> None:
            if drain is not None:  # open live streams end now, rather than after the graceful timeout
                drain()
            await super().shutdown(sockets)

    server = Server(config)
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
    from crm.services.gateway.webapp import BUILD_COMMAND

    try:
        configure_logging(
            "crm-dev",
            level=os.environ.get("LOG_LEVEL", "INFO").upper(),
            fmt=os.environ.get("LOG_FORMAT", "text"),
        )
        embedded = build_embedded(writable_dir(data_dir, "--data-dir"))
    except ConfigError as exc:
        fail(str(exc))
    err.print(f"[bold green]CRM[/] embedded mode: http://{host}:{port}  (data: {data_dir})")
    if embedded.gateway.webapp is not None and embedded.gateway.webapp.root is None:
        line = f"The web app is not built (the API works): build it with `{BUILD_COMMAND}`"
        err.print(line, soft_wrap=True)
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


COLOURS = {
    "auth": "cyan",
    "customer": "green",
    "sales_activity": "yellow",
    "opportunity": "magenta",
    "analytics": "blue",
    "gateway": "bold white",
}


def up(
    port: Annotated[int, typer.Option(help="gateway port; the services take the next five")] = 8000,
    data_dir: Annotated[Path, typer.Option(help="logs, and Kafka's data with --local-infra")] = Path(
        ".crm-data/up"
    ),
    local_infra: Annotated[
        bool, typer.Option(help="first start a local Kafka broker and PostgreSQL")
    ] = False,
) -> None:
    """Run the five services and the gateway as six processes (the distributed mode), logs prefixed."""
    import os
    import threading

    from rich.markup import escape

    from crm.modes.local_cluster import SERVICES
    from crm.modes.processes import ProcessError
    from crm.modes.up import LocalInfra, database_url_for, plan, run_until_stopped, start_local_infra

    data_dir = writable_dir(data_dir, "--data-dir")
    lock = threading.Lock()

    def echo(name: str, line: str) -> None:
        with lock:
            err.print(
                f"[{COLOURS.get(name, 'white')}]{name:>14}[/] │ {escape(line)}",
                highlight=False,
                soft_wrap=True,
            )

    def say(text: str) -> None:
        err.print(f"[bold]crm up[/] {text}")

    infra = LocalInfra()
    try:
        if local_infra:
            infra, per_service = start_local_infra(data_dir, say)
        else:
            per_service = {name: {"DATABASE_URL": database_url_for(name, os.environ)} for name in SERVICES}
        processes = plan(port, data_dir, os.environ.get("JWT_SECRET"), per_service, echo)
        code = run_until_stopped(processes, lambda: say(f"ready: http://127.0.0.1:{port}  (Ctrl-C stops)"))
    except ConfigError as exc:
        fail(str(exc))
    except ProcessError as exc:
        fail(str(exc), code=1)
    except Exception as exc:  # the local infrastructure could not start: say why, in one line
        fail(f"{type(exc).__name__}: {exc}", code=1)
    finally:
        infra.stop()
    raise typer.Exit(code)
