"""Customer writes through the gateway on the six processes, each committing its customer row and its outbox
row in one transaction: the sustained rate wrk gets, next to the rate of raw single-row asyncpg inserts on the
same PostgreSQL with as many connections. It also prints the CPU time each process spent per write during the
run (from /proc: the six processes, PostgreSQL's backends, the broker), which a shared machine moves far less
than the rate."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import asyncpg
import httpx

from bench.bed import Bed
from bench.gateway import cpu_seconds, run_wrk
from bench.stats import Figure

CONNECTIONS = 16

# Each wrk thread numbers its own requests; the thread id keeps the e-mail addresses apart.
POST_CUSTOMERS = """
local counter = 0
local thread_id = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end
function request()
  counter = counter + 1
  local body = string.format(
    '{"name":"Bench Co %d-%d","email":"w%d-%d@example.com","industry":"Retail","size":"SMALL"}',
    thread_id, counter, thread_id, counter)
  return wrk.format(nil, "/api/customers", nil, body)
end
"""


async def _token(gateway: str) -> str:
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        email = f"writer-{uuid.uuid4().hex[:8]}@example.com"
        body = {"email": email, "password": "Password123!", "name": "Writer", "role": "SALES"}
        response = await client.post("/api/auth/register", json=body)
        response.raise_for_status()
        return str(response.json()["token"])


async def _raw_inserts(dsn: str, seconds: float) -> float:
    """Single-row INSERTs (one transaction each) from CONNECTIONS asyncpg connections for ``seconds``."""
    setup = await asyncpg.connect(dsn)
    await setup.execute(
        "CREATE TABLE IF NOT EXISTS raw_insert (id uuid PRIMARY KEY, name text NOT NULL, email text, "
        "created_at timestamptz NOT NULL DEFAULT now())"
    )
    await setup.close()
    connections = [await asyncpg.connect(dsn) for _ in range(CONNECTIONS)]
    done = 0
    deadline = time.perf_counter() + seconds

    async def insert(conn: asyncpg.Connection) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await conn.execute(
                "INSERT INTO raw_insert (id, name, email) VALUES ($1, $2, $3)", uuid.uuid4(), "Co", "a@b.com"
            )
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(insert(c) for c in connections))
    elapsed = time.perf_counter() - started
    for conn in connections:
        await conn.close()
    return done / elapsed


def _processes(bed: Bed) -> dict[str, int]:
    """name → pid of each process a write costs CPU in (PostgreSQL: the postmaster, whose children are the
    backends; cpu_seconds counts them)."""
    pids = {name: p.proc.pid for name, p in bed.cluster.processes.items() if p.proc is not None}
    postmaster = bed.postgres.data_dir / "postmaster.pid"
    if postmaster.exists():
        pids["postgres"] = int(postmaster.read_text().split()[0])
    broker = getattr(bed.broker, "_proc", None)
    if broker is not None:
        pids["kafka"] = broker.pid
    return pids


def figure(bed: Bed, seconds: float) -> Figure:
    gateway = bed.cluster.gateway
    token = asyncio.run(_token(gateway))
    script = Path(bed.work / "post-customers.lua")
    script.write_text(POST_CUSTOMERS)
    options = SimpleNamespace(threads=2, connections=CONNECTIONS)
    run_wrk(f"{gateway}/api/customers", token, options, min(2.0, seconds), [], script)  # warm-up
    pids = _processes(bed)
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    measured = run_wrk(f"{gateway}/api/customers", token, options, seconds, [], script)
    writes = max(1.0, measured.rps * seconds)
    cpu = {name: (cpu_seconds(pid) - before[name]) / writes * 1e6 for name, pid in pids.items()}
    database = bed.database("raw")
    dsn = database.replace("postgresql+asyncpg://", "postgresql://")
    yardstick = asyncio.run(_raw_inserts(dsn, seconds))
    errors = f", {measured.errors} errors" if measured.errors else ""
    print(
        f"\ncustomer writes: {measured.rps:,.0f}/s (p50 {measured.p50_ms:.1f} ms, "
        f"p99 {measured.p99_ms:.1f} ms{errors}); raw asyncpg inserts {yardstick:,.0f}/s"
    )
    print(
        f"CPU µs per write during the run: {sum(cpu.values()):,.0f} in all: "
        + ", ".join(f"{name} {us:,.0f}" for name, us in sorted(cpu.items(), key=lambda kv: -kv[1]))
    )
    return Figure(
        f"customer writes through the gateway ({CONNECTIONS} connections, outbox row each)",
        "/s", measured.rps, 1_500, True, yardstick, "raw asyncpg inserts",
        note=f"{measured.errors} errors" if measured.errors else "",
    )  # fmt: skip
