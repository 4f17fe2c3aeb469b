"""Session fixtures for the real servers: one Kafka broker and one PostgreSQL cluster per test run.

They start on first use, so a run of unit tests alone starts neither. If a server cannot start, every test
that needs it fails with the reason (never a skip)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

import pytest

from crm.localinfra import KafkaBroker, PostgresCluster


class Server(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


S = TypeVar("S", bound=Server)


@contextmanager
def running(server: S, what: str) -> Iterator[S]:
    """``server`` started for the fixture's scope and stopped after it; when it cannot start, the tests that
    need it fail with ``what`` and the reason (never a skip)."""
    try:
        server.start()
    except Exception as exc:
        pytest.fail(f"{what} did not start: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    with running(KafkaBroker(tmp_path_factory.mktemp("kafka")), "the Kafka test broker") as broker:
        yield broker


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    with running(PostgresCluster(), "the PostgreSQL test cluster") as cluster:
        yield cluster


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:  # a RedisServer
    """A real Redis server (Debian's redis-server) for the run; its failure to start fails the tests."""
    from crm.localinfra import RedisServer

    with running(RedisServer(tmp_path_factory.mktemp("redis")), "the Redis test server") as server:
        yield server
