"""The six-process CRM (five services + gateway) on a local Kafka broker and PostgreSQL cluster.

Used by the integration tests, the benchmarks, and ``crm up --local-infra``: each service its own process
and its own database ``<prefix>_<service>``, the gateway in front of them over HTTP."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from crm.localinfra import KafkaBroker, PostgresCluster
from crm.localinfra.ports import free_port, free_ports
from crm.modes.processes import ServiceProcess, start_all, stop_all
from crm.platform.settings import SERVICE_URL_VARIABLES
from crm.services.gateway.config import dev_rate_limits

SERVICES = ["auth", "customer", "sales_activity", "opportunity", "analytics"]
JWT_SECRET = secrets.token_urlsafe(48)  # one per launching process: every service of its clusters shares it


def plaintext_kafka(broker: KafkaBroker) -> dict[str, str]:
    return {"KAFKA_ENABLED": "true", "KAFKA_BROKERS": broker.plaintext_bootstrap}


def sasl_kafka(broker: KafkaBroker, mechanism: str, *, password: str | None = None) -> dict[str, str]:
    """The guide's variables for a SASL_SSL connection (TLS verified against the test CA)."""
    users = broker.plain_users if mechanism == "plain" else broker.scram_users
    username, real_password = next(iter(users.items()))
    return {
        "KAFKA_ENABLED": "true",
        "KAFKA_BROKERS": broker.sasl_bootstrap,
        "KAFKA_USERNAME": username,
        "KAFKA_PASSWORD": real_password if password is None else password,
        "KAFKA_MECHANISM": mechanism,
        "KAFKA_SSL_CA_FILE": str(broker.ca_file),
    }


def service_env(
    name: str,
    postgres: PostgresCluster,
    database: str,
    kafka: Mapping[str, str],
    jwt_secret: str | None = JWT_SECRET,
) -> dict[str, str]:
    """``jwt_secret`` None: EdDSA tokens (the services fetch auth's public keys from AUTH_SERVICE_URL)."""
    postgres.create_database(database)
    return {
        "DATABASE_URL": postgres.url(database),
        "JWT_SECRET": jwt_secret or "",
        "KAFKA_CLIENT_ID": f"{name.replace('_', '-')}-service",
        "OUTBOX_POLL_INTERVAL_MS": "500",
        "LOG_LEVEL": "INFO",
        **kafka,
    }


@dataclass
class Cluster:
    processes: dict[str, ServiceProcess]

    @property
    def gateway(self) -> str:
        return self.processes["gateway"].url

    def log(self, name: str) -> str:
        return self.processes[name].log_text()

    async def wait_for_log(self, name: str, pattern: str, timeout: float = 30) -> str:
        """The first log line of ``name`` matching ``pattern`` (a regex), waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            for line in self.log(name).splitlines():
                if regex.search(line):
                    return line
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{name} never logged {pattern!r}; its log ends:\n{self.processes[name].tail()}"
                )
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        stop_all(list(self.processes.values()))


def start_cluster(
    prefix: str,
    logs: Path,
    postgres: PostgresCluster,
    kafka_for: Mapping[str, Mapping[str, str]],
    services: list[str] = SERVICES,
    *,
    jwt_secret: str | None = JWT_SECRET,
    gateway_overrides: Mapping[str, str] | None = None,
    own_postgres: Mapping[str, PostgresCluster] | None = None,
) -> Cluster:
    """Start ``services`` (each its own database ``<prefix>_<name>``) and a gateway in front of them; tokens
    are HS256 with ``jwt_secret``, or EdDSA when it is None. ``gateway_overrides``: gateway variables set last
    (e.g. its rate limits). ``own_postgres`` puts the services it names on a PostgreSQL cluster of their own
    (so one service's database can be restarted alone)."""
    processes: dict[str, ServiceProcess] = {}
    ports = dict(zip(services, free_ports(len(services)), strict=True))
    for name in services:
        server = (own_postgres or {}).get(name, postgres)
        env = service_env(name, server, f"{prefix}_{name}", kafka_for[name], jwt_secret)
        if "auth" in ports and name != "auth":  # where auth publishes its public keys
            env["AUTH_SERVICE_URL"] = f"http://127.0.0.1:{ports['auth']}"
        (logs / f"{prefix}-{name}.log").unlink(missing_ok=True)
        processes[name] = ServiceProcess(name, ports[name], env, logs / f"{prefix}-{name}.log")
    gateway_env = {SERVICE_URL_VARIABLES[n]: p.url for n, p in processes.items()}
    # The gateway tails user.events (no consumer group) so the edge, too, refuses revoked tokens.
    gateway_env.update({k: v for k, v in kafka_for.get("auth", {}).items() if k.startswith("KAFKA_")})
    if jwt_secret:
        gateway_env["JWT_SECRET"] = jwt_secret
    gateway_env.update(dev_rate_limits({}))  # every test request comes from 127.0.0.1
    gateway_env.update(gateway_overrides or {})
    if len(services) == len(SERVICES):
        (logs / f"{prefix}-gateway.log").unlink(missing_ok=True)
        processes["gateway"] = ServiceProcess(
            "gateway", free_port(), gateway_env, logs / f"{prefix}-gateway.log"
        )
    start_all(list(processes.values()))
    return Cluster(processes)
