"""``kill -9`` of each of the six processes in turn in the middle of the load, then restarted: no accepted
write, event or side effect is lost or doubled."""

from __future__ import annotations

import pytest

from tests.support.chaos import ChaosBed

pytestmark = pytest.mark.connected


@pytest.mark.parametrize(
    "name", ["auth", "customer", "sales_activity", "opportunity", "analytics", "gateway"]
)
async def test_kill_9_in_the_middle_of_the_load_then_restart(bed: ChaosBed, name: str) -> None:
    async def kill_and_restart() -> None:
        await bed.kill(name)
        await bed.start(name)

    await bed.load(fault=kill_and_restart)
    findings = await bed.converged()
    bed.report(f"kill -9 {name}", f"kill -9 of {name} at half the load, then a restart", findings)
