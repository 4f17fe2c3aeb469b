"""``crm up``: the six processes of the distributed mode on this machine, with prefixed, coloured logs and a
clean stop on Ctrl-C. ``--local-infra`` first starts a local Apache Kafka broker and PostgreSQL cluster
as the test bed does, so the real distributed setup runs without Docker.

Without ``--local-infra`` the environment says where Kafka and PostgreSQL are: the guide's KAFKA_*
variables, and ``<SERVICE>_DATABASE_URL`` per service (e.g. ``AUTH_DATABASE_URL``) or one ``DATABASE_URL``
whose database name gets the service's appended (``…/crm`` → ``…/crm_auth``)."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from crm.localinfra import KafkaBroker, PostgresCluster
from crm.modes.local_cluster import SERVICES, plaintext_kafka
from crm.modes.processes import ProcessError, ServiceProcess, start_all, stop_all
from crm.platform.settings import SERVICE_URL_VARIABLES, ConfigError
from crm.services.gateway.config import dev_rate_limits

Echo = Callable[[str, str], None]


@dataclass
class LocalInfra:
    broker: KafkaBroker | None = None
    postgres: PostgresCluster | None = None
    notes: list[str] = field(default_factory=list)

    def stop(self) -> None:
        if self.postgres is not None:
            self.postgres.stop()
        if self.broker is not None:
            self.broker.stop()


def database_url_for(service: str, environ: Mapping[str, str]) -> str:
    """``<SERVICE>_DATABASE_URL``, else ``DATABASE_URL`` with ``_<service>`` appended to its database name."""
    own = environ.get(f"{service.upper()}_DATABASE_URL", "").strip()
    if own:
        return own
    shared = environ.get("DATABASE_URL", "").strip()
    if not shared:
        raise ConfigError(
            f"{service.upper()}_DATABASE_URL or DATABASE_URL must be set for `crm up` (or use --local-infra)"
        )
    parts = urlsplit(shared)
    name = parts.path.strip("/") or "crm"
    return urlunsplit(parts._replace(path=f"/{name}_{service}"))


def start_local_infra(
    data_dir: Path, say: Callable[[str], None]
) -> tuple[LocalInfra, dict[str, dict[str, str]]]:
    """Start a broker and a PostgreSQL cluster; the per-service Kafka and database variables."""
    infra = LocalInfra()
    try:
        say("starting Apache Kafka (KRaft, fetched from Maven Central on first use)…")
        infra.broker = KafkaBroker(data_dir / "kafka").start()
        say(f"Kafka ready on {infra.broker.plaintext_bootstrap} (SASL_SSL on {infra.broker.sasl_bootstrap})")
        say("starting PostgreSQL…")
        infra.postgres = PostgresCluster().start()
        say(f"PostgreSQL ready on 127.0.0.1:{infra.postgres.port}")
    except Exception:
        infra.stop()
        raise
    envs: dict[str, dict[str, str]] = {}
    for name in SERVICES:
        infra.postgres.create_database(f"crm_{name}")
        envs[name] = {**plaintext_kafka(infra.broker), "DATABASE_URL": infra.postgres.url(f"crm_{name}")}
    return infra, envs


def plan(
    port: int,
    data_dir: Path,
    jwt_secret: str | None,
    per_service: Mapping[str, Mapping[str, str]],
    echo: Echo | None,
) -> list[ServiceProcess]:
    """The six processes: services on ``port+1``…``port+5``, the gateway on ``port``.

    Tokens are EdDSA: auth signs with the keys in its database, every other process verifies with the public
    keys it fetches from auth (``AUTH_SERVICE_URL``). ``jwt_secret`` (the user's ``JWT_SECRET``) switches
    every process to HS256 with it instead."""
    ports = {name: port + offset for offset, name in enumerate(SERVICES, start=1)}
    upstreams = {SERVICE_URL_VARIABLES[name]: f"http://127.0.0.1:{p}" for name, p in ports.items()}
    shared = {"JWT_SECRET": jwt_secret} if jwt_secret else {}
    processes: list[ServiceProcess] = []
    for name, own_port in ports.items():
        env = {**shared, "KAFKA_CLIENT_ID": f"{name.replace('_', '-')}-service", **per_service[name]}
        if name != "auth":
            env["AUTH_SERVICE_URL"] = upstreams["AUTH_SERVICE_URL"]
        processes.append(ServiceProcess(name, own_port, env, data_dir / "logs" / f"{name}.log", echo))
    # The gateway verifies tokens as the services do, and tails the topics (revocations, the live stream)
    # on their Kafka.
    kafka = {k: v for k, v in per_service.get("auth", {}).items() if k.startswith("KAFKA_")}
    edge = {**shared, **kafka, **dev_rate_limits(os.environ), **upstreams}
    processes.append(ServiceProcess("gateway", port, edge, data_dir / "logs" / "gateway.log", echo))
    return processes


def run_until_stopped(processes: list[ServiceProcess], on_ready: Callable[[], None]) -> int:
    """Start everything, then wait for Ctrl-C/SIGTERM or a process to exit; stop all in reverse order.
    Returns the exit code for the command (0 on a requested stop)."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        start_all(processes)
        on_ready()
        while not stop.wait(0.5):
            dead = [p for p in processes if not p.running]
            if dead:
                raise ProcessError(f"{dead[0].name} exited:\n{dead[0].tail()}")
        return 0
    finally:
        stop_all(processes)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
