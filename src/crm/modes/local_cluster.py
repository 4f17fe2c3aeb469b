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
from crm.localinfra.ports import free_port
from crm.modes.processes import ServiceProcess, start_all, stop_all
from crm.platform.settings import SERVICE_URL_VARIABLES

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
    name: str, postgres: PostgresCluster, database: str, kafka: Mapping[str, str]
) -> dict[str, str]:
    postgres.create_database(database)
    return {
        "DATABASE_URL": postgres.url(database),
        "JWT_SECRET": JWT_SECRET,
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
) -> Cluster:
    """Start ``services`` (each its own database ``<prefix>_<name>``) and a gateway in front of them."""
    processes: dict[str, ServiceProcess] = {}
    for name in services:
        env = service_env(name, postgres, f"{prefix}_{name}", kafka_for[name])
        (logs / f"{prefix}-{name}.log").unlink(missing_ok=True)
        processes[name] = ServiceProcess(name, free_port(), env, logs / f"{prefix}-{name}.log")
    gateway_env = {SERVICE_URL_VARIABLES[n]: p.url for n, p in processes.items()}
    if len(services) == len(SERVICES):
        (logs / f"{prefix}-gateway.log").unlink(missing_ok=True)
        processes["gateway"] = ServiceProcess(
            "gateway", free_port(), gateway_env, logs / f"{prefix}-gateway.log"
        )
    start_all(list(processes.values()))
    return Cluster(processes)
