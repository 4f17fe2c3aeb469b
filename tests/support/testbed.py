"""Session fixtures for the real servers: one Kafka broker and one PostgreSQL cluster per test run.

They start on first use, so a run of unit tests alone starts neither. If a server cannot start, every test
that needs it fails with the reason (never a skip)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crm.localinfra import KafkaBroker, PostgresCluster


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka"))
    try:
        broker.start()
    except Exception as exc:
        pytest.fail(f"the Kafka test broker did not start: {exc}", pytrace=False)
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    try:
        cluster.start()
    except Exception as exc:
        pytest.fail(f"the PostgreSQL test cluster did not start: {exc}", pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:  # a RedisServer
    """A real Redis server (Debian's redis-server) for the run; its failure to start fails the tests."""
    from crm.localinfra import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
    except Exception as exc:
        pytest.fail(f"the Redis test server did not start: {exc}", pytrace=False)
    yield server
    server.stop()
