"""The infrastructure one `python -m bench` run shares: a real Kafka broker, a PostgreSQL cluster and the
six-process CRM on them, each started on first use and all stopped at the end of the run."""

from __future__ import annotations

import contextlib
from pathlib import Path

from crm.localinfra import KafkaBroker, PostgresCluster
from crm.modes.local_cluster import SERVICES, Cluster, plaintext_kafka, start_cluster

# The gateway's rate limits stay on (their cost is part of every request) but far above any benchmark's rate.
UNLIMITED = {
    "RATE_LIMIT_PER_IP": "1000000000/60",
    "RATE_LIMIT_PER_USER": "1000000000/60",
    "RATE_LIMIT_AUTH": "1000000000/60",
}


class Bed:
    def __init__(self, work: Path) -> None:
        self.work = work
        self._broker: KafkaBroker | None = None
        self._postgres: PostgresCluster | None = None
        self._cluster: Cluster | None = None
        self._databases = 0

    @property
    def broker(self) -> KafkaBroker:
        if self._broker is None:
            self._broker = KafkaBroker(self.work / "kafka").start()
        return self._broker

    @property
    def postgres(self) -> PostgresCluster:
        if self._postgres is None:
            self._postgres = PostgresCluster().start()  # its own temp dir: the postgres user must reach it
        return self._postgres

    def database(self, name: str) -> str:
        """A fresh database on the cluster; returns its SQLAlchemy (asyncpg) URL."""
        self._databases += 1
        database = f"bench{self._databases}_{name}"
        self.postgres.create_database(database)
        return self.postgres.url(database)

    @property
    def cluster(self) -> Cluster:
        """The six processes (five services and the gateway), each service with its own database."""
        if self._cluster is None:
            (self.work / "logs").mkdir(exist_ok=True)
            kafka = {**plaintext_kafka(self.broker), "LOG_LEVEL": "WARNING"}
            self._cluster = start_cluster(
                "bench",
                self.work / "logs",
                self.postgres,
                {n: kafka for n in SERVICES},
                gateway_overrides=UNLIMITED,
            )
        return self._cluster

    def stop_cluster(self) -> None:
        """Stop the six processes: their consumers would react to the backlogs later figures make."""
        if self._cluster is not None:
            self._cluster.stop()
            self._cluster = None

    def close(self) -> None:
        self.stop_cluster()
        for server in (self._postgres, self._broker):
            if server is not None:
                with contextlib.suppress(Exception):
                    server.stop()
        self._postgres = self._broker = None
