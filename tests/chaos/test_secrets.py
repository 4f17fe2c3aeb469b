"""Across every log line the fault suite produced (the six processes' logs), no password, token or
KAFKA_PASSWORD appears. Runs last in the package (file order), after every fault has been logged."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from crm.modes.local_cluster import JWT_SECRET
from tests.support.chaos import PREFIX, ChaosBed

pytestmark = pytest.mark.connected
JWT_SHAPE = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")


def found_in(text: str, secrets: set[str]) -> set[str]:
    """The ``secrets`` that occur in ``text``: what ``secret in text`` says for each, in one scan of the text
    per distinct 4-character start instead of one per secret (a --long run: ~60 MB of logs, thousands of
    passwords and tokens, and hours the per-secret way). Each secret is at least 8 characters."""
    by_head: dict[str, list[str]] = defaultdict(list)
    for secret in secrets:
        by_head[secret[:8]].append(secret)
    found: set[str] = set()
    for start in {head[:4] for head in by_head}:
        at = text.find(start)
        while at != -1:
            found.update(s for s in by_head.get(text[at : at + 8], ()) if text.startswith(s, at))
            at = text.find(start, at + 1)
    return found


async def test_no_secret_in_any_log_line_of_the_suite(bed: ChaosBed) -> None:
    logs = {name: p.log_text() for name, p in bed.cluster.processes.items()}
    secrets = {s for s in bed.passwords | bed.tokens | {JWT_SECRET} if len(s) >= 8}
    for driver in bed.drivers:
        secrets |= {s for s in driver.passwords | driver.tokens if len(s) >= 8}
    leaks = [
        f"{name}: a {'token' if secret.startswith('eyJ') else 'secret'} ending …{secret[-4:]}"
        for name, text in logs.items()
        for secret in sorted(found_in(text, secrets))
    ]
    leaks += [f"{name}: a JWT-shaped string" for name, text in logs.items() if JWT_SHAPE.search(text)]
    lines = sum(text.count("\n") for text in logs.values())
    assert not leaks, leaks
    bed.summaries.append(
        f"secrets: {lines} log lines of {len(logs)} processes ({PREFIX}-*.log) searched for {len(secrets)} "
        f"passwords, tokens and KAFKA_PASSWORD values: 0 found"
    )
