"""Across every log line the fault suite produced (the six processes' logs), no password, token or
KAFKA_PASSWORD appears. Runs last in the package (file order), after every fault has been logged."""

from __future__ import annotations

import re

import pytest

from crm.modes.local_cluster import JWT_SECRET
from tests.support.chaos import PREFIX, ChaosBed

pytestmark = pytest.mark.connected
JWT_SHAPE = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")


async def test_no_secret_in_any_log_line_of_the_suite(bed: ChaosBed) -> None:
    logs = {name: p.log_text() for name, p in bed.cluster.processes.items()}
    secrets = {s for s in bed.passwords | bed.tokens | {JWT_SECRET} if len(s) >= 8}
    for driver in bed.drivers:
        secrets |= {s for s in driver.passwords | driver.tokens if len(s) >= 8}
    leaks = [
        f"{name}: a {'token' if secret.startswith('eyJ') else 'secret'} ending …{secret[-4:]}"
        for name, text in logs.items()
        for secret in secrets
        if secret in text
    ]
    leaks += [f"{name}: a JWT-shaped string" for name, text in logs.items() if JWT_SHAPE.search(text)]
    lines = sum(text.count("\n") for text in logs.values())
    assert not leaks, leaks
    bed.summaries.append(
        f"secrets: {lines} log lines of {len(logs)} processes ({PREFIX}-*.log) searched for {len(secrets)} "
        f"passwords, tokens and KAFKA_PASSWORD values: 0 found"
    )
