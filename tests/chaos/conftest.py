"""One fault-suite bed for the whole package (tests/chaos): a broker of its own, customer-service on a
PostgreSQL cluster of its own, the six processes, and a summary of every fault test in the terminal report
(so CI's log shows what was injected and counted, whatever ``-s``)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from crm.localinfra import KafkaBroker, PostgresCluster
from crm.modes.local_cluster import SERVICES, plaintext_kafka, start_cluster
from tests.support.chaos import PREFIX, ChaosBed
from tests.support.testbed import running

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "logs"
SMALL_LOAD = 40
LONG_LOAD = 10_000
# A --long load (10,000 operations through the gateway) runs for many minutes on a shared 2-core machine:
# pyproject's 300 s per test would cut the first one short.
LONG_TIMEOUT = 3 * 3600
_SUMMARIES: list[str] = []


@pytest.fixture(scope="package")
def chaos_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    with running(KafkaBroker(tmp_path_factory.mktemp("chaos-kafka")), "the fault suite's Kafka broker") as b:
        yield b


@pytest.fixture(scope="package")
def customer_postgres() -> Iterator[PostgresCluster]:
    """customer-service's own PostgreSQL, so restarting it disturbs no other service. ``keep``: a stop (the
    fault) keeps its data; the files go at the end."""
    with running(PostgresCluster(keep=True), "customer-service's PostgreSQL") as cluster:
        yield cluster
    shutil.rmtree(cluster.data_dir.parent, ignore_errors=True)


@pytest.fixture(scope="package")
def chaos_bed(
    request: pytest.FixtureRequest,
    chaos_broker: KafkaBroker,
    postgres: PostgresCluster,
    customer_postgres: PostgresCluster,
) -> Iterator[ChaosBed]:
    admin = {"CRM_ADMIN_EMAIL": "admin@example.com", "CRM_ADMIN_PASSWORD": "Admin-Password-1"}
    # A --long load outlasts the 15-minute access tokens its users signed in with.
    admin["JWT_TTL_MINUTES"] = "600"
    envs = {n: {**plaintext_kafka(chaos_broker), **admin} for n in SERVICES}
    for name in SERVICES:
        (customer_postgres if name == "customer" else postgres).drop_database(f"{PREFIX}_{name}")
    own = {"customer": customer_postgres}
    cluster = start_cluster(PREFIX, ARTIFACTS, postgres, envs, own_postgres=own)
    operations = LONG_LOAD if request.config.getoption("--long") else SMALL_LOAD
    bed = ChaosBed(cluster, chaos_broker, postgres, own, operations, summaries=_SUMMARIES)
    bed.passwords |= {"Admin-Password-1", "crm-secret"}
    try:
        yield bed
    finally:
        cluster.stop()


@pytest.fixture
async def bed(chaos_bed: ChaosBed) -> AsyncIterator[ChaosBed]:
    """The suite's bed with everything running, as a test finds it."""
    await chaos_bed.ensure_running()
    yield chaos_bed


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--long"):
        here = Path(__file__).parent
        for item in items:
            if here in item.path.parents:
                item.add_marker(pytest.mark.timeout(LONG_TIMEOUT))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _SUMMARIES:
        terminalreporter.section("fault suite: what was injected and counted")
        for line in _SUMMARIES:
            terminalreporter.write_line(line)
