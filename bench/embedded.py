"""The embedded mode as a newcomer meets it: `crm dev` cold start to the first answered request, and its
memory (RSS) after a run of N API operations.

Goals (issue 8): cold start ≤ 2 s, RSS ≤ 150 MB after 10,000 operations. Prints figures, asserts nothing.

Usage: .venv/bin/python -m bench rss coldstart
       (or: .venv/bin/python -m bench.embedded [--operations 10000] [--starts 3])
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.stats import Figure, print_figures
from crm.localinfra import DevServer

ADMIN = {"email": "admin@example.com", "password": "Admin-Password-1"}


def start_dev(data_dir: Path) -> DevServer:
    """`crm dev` on a fresh port, started (``started_in``: the seconds until GET /health answered 200)."""
    env = {"CRM_ADMIN_EMAIL": ADMIN["email"], "CRM_ADMIN_PASSWORD": ADMIN["password"], "LOG_LEVEL": "WARNING"}
    return DevServer(data_dir, env=env).start()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def operations(port: int, count: int) -> float:
    """A mix a sales rep produces: create customers, list and search them, read one. Returns ops/s."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as api:
        token = (await api.post("/api/auth/login", json=ADMIN)).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        ids: list[str] = []
        started = time.perf_counter()
        for i in range(count):
            kind = i % 4
            if kind == 0 or not ids:
                body = {
                    "name": f"Bench Co {i}",
                    "industry": "Retail",
                    "size": "SMALL",
                    "email": f"b{i}@example.com",
                }
                response = await api.post("/api/customers", json=body, headers=headers)
                assert response.status_code == 201, response.text
                ids.append(response.json()["id"])
            elif kind == 1:
                await api.get("/api/customers", params={"limit": 20}, headers=headers)
            elif kind == 2:
                await api.get("/api/customers", params={"q": f"co {i - 2}"}, headers=headers)
            else:
                await api.get(f"/api/customers/{ids[-1]}", headers=headers)
        return count / (time.perf_counter() - started)


def figures(work: Path, operations_count: int, starts: int) -> list[Figure]:
    """Cold start (median of ``starts`` fresh data dirs) and RSS after ``operations_count`` operations."""
    cold: list[float] = []
    for attempt in range(starts):
        fresh = start_dev(work / f"fresh-{attempt}")
        assert fresh.started_in is not None
        cold.append(fresh.started_in)
        fresh.stop()
    server = start_dev(work / "load")
    try:
        idle = rss_mb(server.pid)
        rate = asyncio.run(operations(server.port, operations_count))
        loaded = rss_mb(server.pid)
    finally:
        server.stop()
    print(f"\n`crm dev` cold starts: {', '.join(f'{s:.2f}' for s in cold)} s")
    print(
        f"RSS after start {idle:.0f} MB; after {operations_count} operations {loaded:.0f} MB; "
        f"{rate:.0f} operations/s sequential"
    )
    return [
        Figure(
            f"`crm dev` RSS after {operations_count:,} operations",
            "MB",
            loaded,
            150,
            False,
            note=f"{idle:.0f} MB idle",
        ),
        Figure(
            "`crm dev` cold start to first answered request",
            "s",
            statistics.median(cold),
            2,
            False,
            note=f"median of {starts}, max {max(cold):.2f} s",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--operations", type=int, default=10_000)
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as tmp:
        print_figures(figures(Path(tmp), args.operations, args.starts))


if __name__ == "__main__":
    main()
