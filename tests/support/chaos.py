"""The fault suite's test bed: the six processes on a broker of their own (so stopping it or reading every
topic concerns this suite only), customer-service on a PostgreSQL cluster of its own (so its database can be
restarted alone), one ledger of accepted writes across the suite, and the faults to inject."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from crm.localinfra import KafkaBroker, PostgresCluster
from crm.modes.local_cluster import Cluster
from tests.support.invariants import SERVICES, Findings, Poison, check
from tests.support.load import Driver, Ledger
from tests.support.waiting import eventually

PREFIX = "chaos"


@dataclass
class ChaosBed:
    cluster: Cluster
    broker: KafkaBroker
    postgres: PostgresCluster
    own_postgres: dict[str, PostgresCluster]
    operations: int  # per load: small in CI, 10,000 with --long
    ledger: Ledger = field(default_factory=Ledger, repr=False)
    poison: list[Poison] = field(default_factory=list, repr=False)
    summaries: list[str] = field(default_factory=list, repr=False)
    # every secret the suite used, for the log check (never in a failure's output)
    passwords: set[str] = field(default_factory=set, repr=False)
    tokens: set[str] = field(default_factory=set, repr=False)
    drivers: list[Driver] = field(default_factory=list, repr=False)
    seed: int = 8

    @property
    def dsns(self) -> dict[str, str]:
        return {n: self.own_postgres.get(n, self.postgres).dsn(f"{PREFIX}_{n}") for n in SERVICES}

    @property
    def bootstrap(self) -> str:
        return self.broker.plaintext_bootstrap

    # -- load ------------------------------------------------------------------------------------------

    async def load(
        self,
        operations: int | None = None,
        *,
        at: float = 0.5,
        fault: Callable[[], Awaitable[Any]] | None = None,
    ) -> Driver:
        """Run a seeded load through the gateway; ``fault`` is awaited once ``at`` of it is done, while the
        load goes on. Returns the driver (its ledger is the suite's)."""
        driver = self.driver(operations or self.operations)
        task = asyncio.create_task(driver.run())
        try:
            if fault is not None:

                async def far_enough() -> bool:
                    if task.done():
                        task.result()  # the load failed: say why
                    return await driver.reached(at)

                # a minute for the first operations, then a generous 0.2 s each (a loaded machine)
                reach = 60 + 0.2 * driver.operations * at
                await eventually(far_enough, timeout=reach, interval=0.05, what=f"{at:.0%} of the load")
                await fault()
            await task
        finally:
            task.cancel()
        assert not self.ledger.failures, self.ledger.failures
        return driver

    def driver(self, operations: int, *, pace: float | None = None) -> Driver:
        """A new seeded driver writing into the suite's ledger (run it with ``await driver.run()``)."""
        self.seed += 1
        driver = Driver(self.cluster.gateway, seed=self.seed, operations=operations, pace=pace)
        driver.ledger = self.ledger
        self.drivers.append(driver)
        return driver

    # -- faults ----------------------------------------------------------------------------------------

    async def kill(self, name: str) -> None:
        """``kill -9`` of one process (no shutdown hook runs)."""
        await asyncio.to_thread(self.cluster.processes[name].kill)

    async def start(self, name: str) -> None:
        process = self.cluster.processes[name]
        process.start()
        await asyncio.to_thread(process.wait_healthy, 90)

    async def ensure_running(self) -> None:
        """Bring back whatever a failed test left down (the broker, a database, a process)."""
        if not self.broker.running:
            await asyncio.to_thread(self.broker.start)
        for server in self.own_postgres.values():
            if not server.running:
                await asyncio.to_thread(server.start)
        for name, process in self.cluster.processes.items():
            if not process.running:
                await self.start(name)

    # -- the verdict -----------------------------------------------------------------------------------

    async def converged(self, timeout: float = 120) -> Findings:
        """Wait until every invariant holds (or fail listing the ones that do not after ``timeout``)."""
        last = Findings()

        async def holds() -> Findings:
            nonlocal last
            last = await check(self.ledger, self.dsns, self.bootstrap, self.poison)
            return last

        try:
            await eventually(holds, timeout=timeout, interval=0.5, what="the invariants")
        except AssertionError as exc:
            if not str(exc).startswith("timed out"):
                raise
            shown = "\n  ".join(last.problems[:40])
            raise AssertionError(
                f"after {timeout}s, {len(last.problems)} invariant(s) do not hold:\n  {shown}"
            ) from None
        return last

    def report(self, test: str, injected: str, findings: Findings, **extra: Any) -> str:
        outcomes = self.ledger.outcomes
        retries = sum(n for k, n in outcomes.items() if k.startswith("retry"))
        refused = sum(n for k, n in outcomes.items() if k.endswith((" 409", " 422")))
        figures = ", ".join(f"{k} {v}" for k, v in extra.items())
        line = (
            f"{test}: injected {injected}; operations accepted {self.ledger.accepted} (suite total), "
            f"refused (409/422) {refused}, client retries {retries}, "
            f"in doubt found {outcomes['in doubt, found']}; "
            f"{findings.summary()}" + (f"; {figures}" if figures else "")
        )
        self.summaries.append(line)
        return line


def elapsed_since(start: float) -> float:
    return time.monotonic() - start
