"""Rate limits shared through a real Redis server (Debian's redis-server, started by the test bed): two
gateway instances see one another's counts; the Lua script decides exactly as the in-memory algorithm; Redis
down means the limits fail open with a log line, never a 500."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from redis.asyncio import Redis
from starlette.types import Receive, Scope, Send

from crm.localinfra import RedisServer
from crm.localinfra.ports import free_port
from crm.platform.security import JwtVerifier, Tokens
from crm.platform.settings import EnvReader
from crm.services.gateway.app import Gateway
from crm.services.gateway.config import GatewayConfig, Rate
from crm.services.gateway.ratelimit import MemoryLimiter, RedisLimiter
from crm.services.gateway.upstreams import AsgiUpstream
from tests.support.waiting import eventually

pytestmark = pytest.mark.connected

# Minted at import, used until the end of the run (which can pass the default 15 minutes): a day-long token.
TOKENS = Tokens("redis-test-secret-" + "r" * 32, ttl_minutes=24 * 60)
AUTH = {"Authorization": f"Bearer {TOKENS.issue(user_id='u1', email='u1@example.com', role='USER')}"}


async def ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def ready() -> dict[str, str]:
    return {"database": "ok"}


@pytest.fixture
async def redis_url(redis_server: RedisServer) -> AsyncIterator[str]:
    """The test bed's Redis, emptied for each test."""
    client = Redis.from_url(redis_server.url)
    await client.flushdb()
    await client.aclose()
    yield redis_server.url


def gateway(redis_url: str, **env: str) -> Gateway:
    config = GatewayConfig.from_env(EnvReader({"REDIS_URL": redis_url, **env}))
    upstreams = {name: AsgiUpstream(name, ok, ready) for name in ("auth", "customer")}
    return Gateway(upstreams, verifier=JwtVerifier(TOKENS.verification_keys()), config=config)


def client_of(app: Gateway, ip: str = "203.0.113.7") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 1)), base_url="http://gw")


async def test_two_gateway_instances_share_the_counts(redis_url: str) -> None:
    first, second = gateway(redis_url, RATE_LIMIT_PER_IP="3/60"), gateway(redis_url, RATE_LIMIT_PER_IP="3/60")
    assert first.limiter is not None and first.limiter.backend == "redis"
    try:
        async with client_of(first) as a, client_of(second) as b:
            assert (await a.get("/api/customers/1", headers=AUTH)).status_code == 200
            assert (await a.get("/api/customers/1", headers=AUTH)).status_code == 200
            third = await b.get("/api/customers/1", headers=AUTH)
            assert third.status_code == 200 and third.headers["ratelimit-remaining"] == "0", (
                "the second instance counts on from the first one's two"
            )
            refused_a = await a.get("/api/customers/1", headers=AUTH)
            refused_b = await b.get("/api/customers/1", headers=AUTH)
            assert refused_a.status_code == refused_b.status_code == 429
            assert 1 <= int(refused_b.headers["retry-after"]) <= 20
            assert refused_b.json()["error"] == "rate_limited"
            other_ip = await client_of(second, ip="198.51.100.1").get("/api/customers/1", headers=AUTH)
            assert other_ip.status_code == 200
    finally:
        await first.close()
        await second.close()


async def test_user_and_account_buckets_are_shared_too(redis_url: str) -> None:
    env = {"RATE_LIMIT_PER_IP": "100/60", "RATE_LIMIT_PER_USER": "2/60", "RATE_LIMIT_AUTH": "1/60"}
    first, second = gateway(redis_url, **env), gateway(redis_url, **env)
    try:
        async with client_of(first, "198.51.100.1") as a, client_of(second, "198.51.100.2") as b:
            assert (await a.get("/api/customers/1", headers=AUTH)).status_code == 200
            assert (await b.get("/api/customers/1", headers=AUTH)).status_code == 200
            again = await b.get("/api/customers/1", headers=AUTH)
            assert again.status_code == 429, "the same user, from another address, on the other instance"
        async with client_of(first, "198.51.100.9") as a, client_of(second, "198.51.100.9") as b:
            assert (await a.post("/api/auth/login", json={})).status_code == 200
            assert (await b.post("/api/auth/login", json={})).status_code == 429
    finally:
        await first.close()
        await second.close()


class FakeClock:
    def __init__(self) -> None:
        self.seconds = 1_700_000_000.0

    def __call__(self) -> float:
        return self.seconds

    def ms(self) -> int:
        return round(self.seconds * 1000)


async def test_the_lua_script_decides_as_the_python_algorithm(redis_url: str) -> None:
    clock = FakeClock()
    memory = MemoryLimiter(clock)
    redis = RedisLimiter(redis_url, clock_ms=clock.ms)
    rates = [("ip:parity", Rate(10, 60.0)), ("auth:parity", Rate(3, 10.0))]
    steps = [0.0] * 5 + [1.0, 2.5, 0.4, 3.3] + [0.0] * 4 + [6.0, 0.1, 59.0] + [0.0] * 12
    try:
        for n, step in enumerate(steps):
            clock.seconds += step
            buckets = rates if n % 3 == 0 else rates[:1]  # the IP bucket alone runs out too
            expected = memory.check(buckets)
            got = await redis.hit(buckets)
            assert got is not None
            assert (got.allowed, got.rate, got.remaining) == (
                expected.allowed,
                expected.rate,
                expected.remaining,
            )
            assert got.retry_after == pytest.approx(expected.retry_after, abs=0.002)
            assert got.reset == pytest.approx(expected.reset, abs=0.002)
    finally:
        await redis.close()


async def test_keys_expire_when_their_bucket_is_full_again(redis_url: str) -> None:
    redis = RedisLimiter(redis_url)
    try:
        await redis.hit([("ip:expiring", Rate(10, 1.0))])
        ttl = await redis.redis.pttl(RedisLimiter.PREFIX + "ip:expiring")
        assert 0 < ttl <= 100, "a bucket's key lives only until the bucket has refilled"
    finally:
        await redis.close()


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.WARNING, logger="crm.gateway.ratelimit")
    yield caplog


async def test_redis_down_fails_open_with_one_log_line_never_a_500(
    captured: pytest.LogCaptureFixture,
) -> None:
    app = gateway(f"redis://127.0.0.1:{free_port()}/0", RATE_LIMIT_PER_IP="1/60")
    try:
        async with client_of(app) as client:
            statuses = [(await client.get("/api/customers/1", headers=AUTH)).status_code for _ in range(5)]
            assert statuses == [200] * 5, "limits fail open"
            lines = [r.getMessage() for r in captured.records if "fails open" in r.getMessage()]
            assert len(lines) == 1 and "unreachable" in lines[0]
            health = (await client.get("/health")).json()["gateway"]
            assert health["status"] == "degraded" and health["rateLimit"]["redis"].startswith("unreachable")
    finally:
        await app.close()


async def test_limits_come_back_with_redis(tmp_path_factory: pytest.TempPathFactory) -> None:
    server = RedisServer(tmp_path_factory.mktemp("redis-restart")).start()
    app = gateway(server.url, RATE_LIMIT_PER_IP="2/60")
    try:
        async with client_of(app) as client:
            assert (await client.get("/api/customers/1", headers=AUTH)).status_code == 200
            server.stop()
            assert (await client.get("/api/customers/1", headers=AUTH)).status_code == 200, "open while down"
            server.start()

            async def limited_again() -> bool:
                return (await client.get("/api/customers/1", headers=AUTH)).status_code == 429

            await eventually(limited_again, timeout=10, interval=0.2, what="the limits to apply again")
    finally:
        await app.close()
        server.stop()
