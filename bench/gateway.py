"""The gateway's cost: an authenticated ``GET /api/customers/{id}`` sent by wrk directly to customer-service
and through the gateway, side by side in one run, the same uvicorn worker count for both, real processes
on loopback.

Scenarios (each measured ``--rounds`` times, alternating, the median kept):
- customer-service (PostgreSQL from the local test bed, or SQLite with ``--db sqlite``), direct and through
  the gateway — the real thing;
- a bare FastAPI stand-in answering the same route (token checked, canned body, no database), direct and
  through the gateway — where the gateway's own cost shows, at a bare app's throughput (``--no-stand-in``);
- ``--redis``: also through a gateway whose rate-limit counters live in a local Redis server.

The gateway runs as production does: token verified at the edge (HS256, the platform's verifier: a token's
signature checked once, its expiry and revocation on every request), rate limits on (memory, or Redis), CORS
and security headers, request ids and trace context. Its rate limits are set high (1e9 per minute) so that
the benchmark measures the limiter's cost without being refused by it.

Usage: .venv/bin/python -m bench.gateway [--duration 10] [--connections 32] [--workers 1] [--rounds 3]
       [--no-stand-in] [--redis] [--db postgres|sqlite] [--profile gateway.speedscope.json]
Needs ``wrk`` (apt-get install -y wrk); ``--redis`` needs ``redis-server``; ``--profile`` needs py-spy.
Besides throughput and latency it prints each server's CPU time per request (from /proc), which other work on
the machine disturbs far less than it disturbs throughput.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm.localinfra.ports import free_port

JWT_SECRET = "bench-secret-" + "x" * 40
ROOT = Path(__file__).resolve().parents[1]


# -- the ASGI apps the worker processes build (uvicorn --factory bench.gateway:...) --------------------------


def customer_app() -> Any:
    """customer-service exactly as ``crm serve customer`` builds it, configured by the environment."""
    from crm.modes.distributed import build_distributed
    from crm.platform.logs import configure_logging

    configure_logging("customer-service", level="WARNING")
    return build_distributed("customer")


def gateway_app() -> Any:
    """The gateway in front of ``BENCH_UPSTREAM``, with the token check and the configured rate limits."""
    from crm.platform.logs import configure_logging
    from crm.platform.security import JwtVerifier, Tokens
    from crm.platform.settings import EnvReader
    from crm.services.gateway.app import Gateway
    from crm.services.gateway.config import GatewayConfig
    from crm.services.gateway.upstreams import HttpUpstream

    configure_logging("gateway", level="WARNING")
    config = GatewayConfig.from_env(EnvReader(os.environ))
    upstream = HttpUpstream("customer", os.environ["BENCH_UPSTREAM"], timeout=config.upstream_timeout)
    verifier = JwtVerifier(Tokens(JWT_SECRET).verification_keys())
    return Gateway({"customer": upstream}, verifier=verifier, config=config)


def stand_in_app() -> Any:
    """A bare FastAPI app on the same route: token verified, a canned customer, no database."""
    from fastapi import FastAPI, Header, HTTPException

    from crm.platform.security import TokenError, Tokens

    tokens = Tokens(JWT_SECRET)
    app = FastAPI()

    @app.get("/api/customers/{customer_id}")
    async def get_customer(customer_id: str, authorization: str = Header("")) -> dict[str, Any]:
        try:
            caller = tokens.verify(authorization.removeprefix("Bearer "))
        except TokenError:
            raise HTTPException(401) from None
        return {"id": customer_id, "name": "Bench Co", "ownerId": caller.id, "email": None, "size": None}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


# -- processes ----------------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def wait_healthy(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited:\n{server.log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(server.url + "/health", timeout=2) as response:  # noqa: S310
                if response.status in (200, 503):
                    return
        except urllib.error.HTTPError as exc:
            if exc.code == 503:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} not healthy after {timeout}s")


@contextmanager
def uvicorn_process(
    name: str, factory: str, workers: int, env: dict[str, str], logs: Path
) -> Iterator[Server]:
    port = free_port()
    log = logs / f"{name}.log"
    command = [
        sys.executable, "-m", "uvicorn", "--factory", f"bench.gateway:{factory}",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--no-access-log", "--log-level", "warning", "--loop", "uvloop", "--http", "httptools",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, env={**os.environ, **env}, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    server = Server(name, port, proc, log)
    try:
        wait_healthy(server)
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def redis_server(work: Path) -> Iterator[str]:
    from crm.localinfra import RedisServer

    server = RedisServer(work / "redis").start()
    try:
        yield server.url
    finally:
        server.stop()


@contextmanager
def py_spy(pid: int, output: Path, seconds: float) -> Iterator[None]:
    """Sample ``pid`` with py-spy (native frames off, subprocesses on) while the block runs."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [
        exe,
        "record",
        "-p",
        str(pid),
        "-d",
        f"{seconds:g}",
        "-r",
        "250",
        "-f",
        "speedscope",
        "-o",
        str(output),
    ]
    spy = subprocess.Popen([*command, "--subprocesses"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.wait(seconds + 30)
        print(f"  (py-spy profile of the gateway written to {output})")


# -- CPU accounting ----------------------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its children (uvicorn's workers), from /proc."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


# -- wrk ----------------------------------------------------------------------------------------------------


@dataclass
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: dict[str, float]  # server → CPU µs per request during the run


def wrk_command(
    url: str, token: str, args: argparse.Namespace, duration: float, script: Path | None = None
) -> list[str]:
    return [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration:g}s", "--latency",
        "-H", f"Authorization: Bearer {token}", *(["-s", str(script)] if script else []), url,
    ]  # fmt: skip


def paced_script(work: Path, rate: float, connections: int) -> Path:
    """A wrk script offering ~``rate`` requests/s over ``connections``: each connection waits an exponential
    think time (mean ``connections / rate``) before each request, so arrivals are roughly Poisson and the
    latency measured is the servers' own, not a queue's. (Debian has no wrk2; this is wrk's own ``delay``.)"""
    mean_ms = connections / rate * 1000
    path = work / f"paced-{rate:.0f}.lua"
    path.write_text(f"function delay()\n  return -math.log(1 - math.random()) * {mean_ms:.3f}\nend\n")
    return path


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        return float("nan")
    return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[match.group(2)]


def run_wrk(
    url: str,
    token: str,
    args: argparse.Namespace,
    duration: float,
    servers: list[Server],
    script: Path | None = None,
) -> Figures:
    before = {s.name: cpu_seconds(s.proc.pid) for s in servers}
    out = subprocess.run(
        wrk_command(url, token, args, duration, script), capture_output=True, text=True, check=True
    ).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    cpu = {s.name: (cpu_seconds(s.proc.pid) - before[s.name]) / max(1, requests) * 1e6 for s in servers}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # The "Latency Distribution" lines ("     50%   10.88ms"), not a "+/- Stdev" column ending in 50%.
    p50, p99 = (
        _ms(m.group(1)) if (m := re.search(rf"^\s+{q}%\s+(\S+)$", out, re.M)) else float("nan")
        for q in (50, 99)
    )
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    count = int(errors.group(1)) if errors else 0
    count += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return Figures(rps, p50, p99, count, cpu)


def median(figures: list[Figures]) -> Figures:
    names = figures[0].cpu_us
    return Figures(
        statistics.median(f.rps for f in figures),
        statistics.median(f.p50_ms for f in figures),
        statistics.median(f.p99_ms for f in figures),
        sum(f.errors for f in figures),
        {name: statistics.median(f.cpu_us[name] for f in figures) for name in names},
    )


# -- the run ------------------------------------------------------------------------------------------------


def mint_token() -> str:
    from crm.platform.security import Tokens

    return Tokens(JWT_SECRET, 60).issue(user_id="bench-admin", email="bench@example.com", role="ADMIN")


def create_customer(base: str, token: str) -> str:
    import json

    request = urllib.request.Request(  # noqa: S310 - our own local URL
        base + "/api/customers",
        data=json.dumps({"name": "Bench Co", "industry": "Technology", "size": "MEDIUM"}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return str(json.loads(response.read())["id"])


def check_same_answer(direct: str, through: str, token: str) -> None:
    def get(url: str) -> tuple[int, bytes]:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read()

    a, b = get(direct), get(through)
    if a != b:
        raise RuntimeError(f"the gateway answers differently: {a!r} vs {b!r}")


@dataclass
class Pair:
    """One comparison: the same URL path on a server directly and through a gateway in front of it."""

    title: str
    direct: Server
    gateway: Server
    path: str


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up before each")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers, the same for every server")
    parser.add_argument("--rounds", type=int, default=3, help="alternating measurements per scenario")
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument(
        "--stand-in",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure in front of a bare FastAPI app (default: on)",
    )
    parser.add_argument("--redis", action="store_true", help="also measure with the limiter in Redis")
    parser.add_argument("--profile", type=Path, help="py-spy speedscope profile of the first gateway")
    parser.add_argument(
        "--paced",
        type=float,
        default=0.5,
        help="then the latency at this fraction of the direct throughput, not saturated (0: skip)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install -y wrk")

    token = mint_token()
    gateway_env = {
        "RATE_LIMIT_ENABLED": "true",
        "RATE_LIMIT_PER_IP": "1000000000/60",
        "RATE_LIMIT_PER_USER": "1000000000/60",
        "RATE_LIMIT_AUTH": "1000000000/60",
        "CORS_ORIGINS": "https://crm.example.com",
        "LOG_LEVEL": "WARNING",
    }
    started_load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="crm-bench-gw-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        logs = work / "logs"
        logs.mkdir()

        def run(name: str, factory: str, env: dict[str, str]) -> Server:
            return stack.enter_context(uvicorn_process(name, factory, args.workers, env, logs))

        service_env = {"JWT_SECRET": JWT_SECRET, "KAFKA_ENABLED": "false", "LOG_LEVEL": "WARNING"}
        if args.db == "postgres":
            from crm.localinfra import PostgresCluster

            postgres = stack.enter_context(PostgresCluster())
            postgres.create_database("bench_customer")
            service_env["DATABASE_URL"] = postgres.url("bench_customer")
        else:
            service_env["DATABASE_URL"] = f"sqlite:///{work / 'customer.sqlite3'}"
        service = run("customer-service", "customer_app", service_env)
        path = f"/api/customers/{create_customer(service.url, token)}"
        gateway = run("gateway", "gateway_app", {**gateway_env, "BENCH_UPSTREAM": service.url})
        check_same_answer(service.url + path, gateway.url + path, token)
        pairs = [Pair(f"customer-service ({args.db})", service, gateway, path)]
        if args.redis:
            url = stack.enter_context(redis_server(work))
            env = {**gateway_env, "BENCH_UPSTREAM": service.url, "REDIS_URL": url}
            pairs.append(
                Pair(
                    "customer-service, limits in Redis",
                    service,
                    run("gateway-redis", "gateway_app", env),
                    path,
                )
            )
        if args.stand_in:
            bare = run("stand-in", "stand_in_app", {})
            bare_gateway = run("gateway-stand-in", "gateway_app", {**gateway_env, "BENCH_UPSTREAM": bare.url})
            pairs.append(Pair("bare FastAPI stand-in", bare, bare_gateway, path))

        print(f"# Python {platform.python_version()}, {os.cpu_count()} CPUs, ", end="")
        print(f"uvicorn --workers {args.workers} --loop uvloop --http httptools for every server")
        print("# wrk: " + " ".join(wrk_command("<url>", "<token>", args, args.duration)))
        print(f"# load average before: {started_load[0]:.2f}")
        results: dict[tuple[str, str], list[Figures]] = {}
        paced: dict[tuple[str, str], list[Figures]] = {}
        profiled = False

        def one(
            label: str, pair: Pair, kind: str, store: dict[tuple[str, str], list[Figures]], **kw: Any
        ) -> None:
            nonlocal profiled
            server = pair.direct if kind == "direct" else pair.gateway
            servers = [pair.direct] if kind == "direct" else [pair.gateway, pair.direct]
            url = server.url + pair.path
            run_wrk(url, token, args, args.warmup, servers, **kw)
            spy = (
                args.profile
                and kind == "gateway"
                and not profiled
                and label.startswith(f"round {args.rounds}")
            )
            with py_spy(server.proc.pid, args.profile, args.duration) if spy else nullcontext():
                figures = run_wrk(url, token, args, args.duration, servers, **kw)
            profiled = profiled or bool(spy)
            store.setdefault((pair.title, kind), []).append(figures)
            cpu = ", ".join(f"{n} {us:.0f}" for n, us in figures.cpu_us.items())
            print(
                f"  {label:8} {pair.title:34} {kind:8} {figures.rps:7.0f} req/s  "
                f"p50 {figures.p50_ms:6.2f}  p99 {figures.p99_ms:6.2f} ms  CPU µs/req: {cpu}"
            )

        for round_ in range(args.rounds):
            for pair in pairs:
                for kind in ("direct", "gateway"):
                    one(f"round {round_ + 1}", pair, kind, results)
        if args.paced > 0:
            for round_ in range(args.rounds):
                for pair in pairs:
                    rate = median(results[(pair.title, "direct")]).rps * args.paced
                    script = paced_script(work, rate, args.connections)
                    for kind in ("direct", "gateway"):
                        one(f"paced {round_ + 1}", pair, kind, paced, script=script)
        ended_load = os.getloadavg()

    print(
        f"\nGET /api/customers/{{id}} with a bearer token, wrk {args.connections} connections, "
        f"{args.duration:g} s x {args.rounds} rounds, median of the rounds"
    )
    print(f"{'':34} {'':8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}  CPU µs/request")
    for (title, kind), figures in results.items():
        f = median(figures)
        cpu = ", ".join(f"{n} {us:.0f}" for n, us in f.cpu_us.items())
        print(f"{title:34} {kind:8} {f.rps:7.0f} {f.p50_ms:7.2f} {f.p99_ms:7.2f} {f.errors:6d}  {cpu}")
    print()
    for pair in pairs:
        d, g = median(results[(pair.title, "direct")]), median(results[(pair.title, "gateway")])
        print(
            f"{pair.title:34} through the gateway: {g.rps / d.rps:.2f}x the direct throughput, "
            f"added latency p50 {g.p50_ms - d.p50_ms:+.2f} ms, p99 {g.p99_ms - d.p99_ms:+.2f} ms"
        )
    if paced:
        print(
            f"\nThe same at {args.paced:.0%} of each direct throughput (wrk delay(): exponential think time, "
            f"{args.connections} connections), median of {args.rounds} rounds"
        )
        print(f"{'':34} {'':8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}")
        for (title, kind), figures in paced.items():
            f = median(figures)
            print(f"{title:34} {kind:8} {f.rps:7.0f} {f.p50_ms:7.2f} {f.p99_ms:7.2f} {f.errors:6d}")
        print()
        for pair in pairs:
            d, g = median(paced[(pair.title, "direct")]), median(paced[(pair.title, "gateway")])
            print(
                f"{pair.title:34} through the gateway at {d.rps:.0f} req/s: added latency "
                f"p50 {g.p50_ms - d.p50_ms:+.2f} ms, p99 {g.p99_ms - d.p99_ms:+.2f} ms"
            )
    print(f"# load average after: {ended_load[0]:.2f} (other work on the machine skews every figure)")


if __name__ == "__main__":
    main()
