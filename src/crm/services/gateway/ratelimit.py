"""Rate limits with GCRA (the generic cell rate algorithm), in memory or in Redis.

Why GCRA: a limit of N requests per period P is a bucket that refills one request every T = P/N and holds at
most N. GCRA stores one number per bucket — the *theoretical arrival time* (TAT) at which the bucket will be
full again — so a check is O(1) in time and memory, exact (no fixed-window doubling at a window's edge, no
per-request log like a sliding-window log), and gives ``Retry-After`` and ``RateLimit-Remaining`` for free:

    tat     = max(stored TAT, now)
    new_tat = tat + T
    allowed = new_tat - now <= P            (the bucket is not over-full)
    remaining = floor((P - (new_tat - now)) / T),  retry_after = new_tat - now - P  (when refused)

A request may count against several buckets (client IP, user, the stricter account-endpoint bucket): it is
allowed only if every bucket allows it, and then every bucket is charged — atomically (in Redis, one Lua
script over all the keys), so a refused request costs nothing and concurrent gateways never over-admit.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from crm.services.gateway.config import Rate, redact

log = logging.getLogger("crm.gateway.ratelimit")

Clock = Callable[[], float]
Bucket = tuple[str, Rate]  # (key, its rate)


class Decision:
    """A limiter's answer. ``rate`` is the bucket the headers describe: the one refusing, else the one with
    the least left. ``reset``: seconds until that bucket is full again; ``retry_after`` (refused): seconds."""

    __slots__ = ("allowed", "rate", "remaining", "reset", "retry_after")

    def __init__(
        self, allowed: bool, rate: Rate, remaining: int, reset: float, retry_after: float = 0.0
    ) -> None:
        self.allowed, self.rate, self.remaining = allowed, rate, remaining
        self.reset, self.retry_after = reset, retry_after

    def headers(self) -> list[tuple[bytes, bytes]]:
        """``RateLimit-Limit/-Remaining/-Reset`` (IETF draft, as express-rate-limit's standard headers) on
        every answer; ``RateLimit-Policy`` and ``Retry-After`` too on a refusal."""
        headers = [
            (b"ratelimit-limit", self.rate.limit_header),
            (b"ratelimit-remaining", b"%d" % self.remaining),
            (b"ratelimit-reset", b"%d" % math.ceil(self.reset)),
        ]
        if not self.allowed:
            headers.append((b"ratelimit-policy", self.rate.policy.encode()))
            headers.append((b"retry-after", b"%d" % max(1, math.ceil(self.retry_after))))
        return headers

    def __repr__(self) -> str:
        state = "allowed" if self.allowed else f"refused, retry in {self.retry_after:.3f} s"
        return f"Decision({state}, {self.rate.policy}, remaining={self.remaining}, reset={self.reset:.3f})"


ALLOW_ALL = None  # what a limiter that could not decide answers: the request goes through (fail open)


def gcra(tats: Sequence[float | None], now: float, buckets: Sequence[Bucket]) -> tuple[Decision, list[float]]:
    """The pure algorithm: each bucket's stored TAT (None: never seen) → the decision and the TATs to store.

    When refused, the returned TATs are the stored ones (nothing is charged)."""
    new_tats: list[float] = []
    refusing: Decision | None = None
    tightest: Decision | None = None
    for stored, (_key, rate) in zip(tats, buckets, strict=True):
        emission = rate.period / rate.limit
        tat = now if stored is None or stored < now else stored
        new_tat = tat + emission
        ahead = new_tat - now
        if ahead > rate.period + 1e-9:
            retry = ahead - rate.period
            if refusing is None or retry > refusing.retry_after:
                refusing = Decision(False, rate, 0, tat - now, retry)
            new_tats.append(tat)
            continue
        remaining = int((rate.period - ahead) / emission + 1e-9)
        if tightest is None or remaining < tightest.remaining:
            tightest = Decision(True, rate, remaining, ahead)
        new_tats.append(new_tat)
    if refusing is not None:
        return refusing, [now if t is None else t for t in tats]
    assert tightest is not None, "at least one bucket"
    return tightest, new_tats


class Limiter(Protocol):
    backend: str

    async def hit(self, buckets: Sequence[Bucket]) -> Decision | None:
        """Count one request against every bucket; None when the limiter cannot decide (fail open)."""
        ...

    async def status(self) -> dict[str, Any]: ...
    async def close(self) -> None: ...


class MemoryLimiter:
    """Buckets in this process (one gateway instance). Full buckets are forgotten by a periodic sweep."""

    backend = "memory"
    SWEEP_EVERY = 30.0  # seconds

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self.tats: dict[str, float] = {}
        self._next_sweep = clock() + self.SWEEP_EVERY

    def check(self, buckets: Sequence[Bucket]) -> Decision:
        now = self.clock()
        if now >= self._next_sweep:
            self._sweep(now)
        tats = self.tats
        decision, new_tats = gcra([tats.get(key) for key, _ in buckets], now, buckets)
        if decision.allowed:
            for (key, _), tat in zip(buckets, new_tats, strict=True):
                tats[key] = tat
        return decision

    async def hit(self, buckets: Sequence[Bucket]) -> Decision | None:
        return self.check(buckets)

    def _sweep(self, now: float) -> None:
        self.tats = {key: tat for key, tat in self.tats.items() if tat > now}
        self._next_sweep = now + self.SWEEP_EVERY

    async def status(self) -> dict[str, Any]:
        return {"backend": "memory", "buckets": len(self.tats)}

    async def close(self) -> None:
        return None


# KEYS: the buckets. ARGV[1]: now in ms ('' = the Redis server's clock, shared by every gateway), then per
# bucket its emission interval and period in ms. Returns {allowed, index of the bucket described (1-based),
# remaining, reset ms, retry ms} with the same arithmetic as gcra().
GCRA_LUA = """
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[1])
end
local n = #KEYS
local new_tats = {}
local refused, refused_retry, refused_reset = 0, -1, 0
local tight, tight_remaining, tight_reset = 0, -1, 0
for i = 1, n do
  local emission = tonumber(ARGV[2 * i])
  local period = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', KEYS[i]))
  if tat == nil or tat < now then tat = now end
  local new_tat = tat + emission
  local ahead = new_tat - now
  if ahead > period + 0.000001 then
    local retry = ahead - period
    if retry > refused_retry then refused, refused_retry, refused_reset = i, retry, tat - now end
  else
    local remaining = math.floor((period - ahead) / emission + 0.000000001)
    if tight == 0 or remaining < tight_remaining then
      tight, tight_remaining, tight_reset = i, remaining, ahead
    end
    new_tats[i] = new_tat
  end
end
if refused > 0 then
  return {0, refused, 0, math.ceil(refused_reset), math.ceil(refused_retry)}
end
for i = 1, n do
  local ttl = math.max(1, math.ceil(new_tats[i] - now))
  redis.call('SET', KEYS[i], string.format('%.3f', new_tats[i]), 'PX', ttl)
end
return {1, tight, tight_remaining, math.ceil(tight_reset), 0}
"""


class RedisLimiter:
    """Buckets in Redis, shared by every gateway instance pointed at it; one round trip (EVALSHA) a request.

    Redis down or slow (over ``timeout``): the request is let through (fail open) with one warning log line
    per ``LOG_EVERY`` seconds, and Redis is not asked again for ``RETRY_AFTER`` seconds, so an outage costs no
    latency. Never a 500."""

    backend = "redis"
    PREFIX = "crm:rl:"
    LOG_EVERY = 10.0
    RETRY_AFTER = 1.0

    def __init__(self, url: str, *, timeout: float = 0.25, clock_ms: Callable[[], int] | None = None) -> None:
        from redis.asyncio import Redis

        self.url = url
        self.redis = Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry_on_timeout=False,
            max_connections=256,
        )
        self._script = self.redis.register_script(GCRA_LUA)
        self._clock_ms = clock_ms  # tests: a fake clock; production: the Redis server's TIME
        self._down_until = 0.0
        self._last_log = -math.inf
        self._last_error = ""

    async def hit(self, buckets: Sequence[Bucket]) -> Decision | None:
        now = time.monotonic()
        if now < self._down_until:
            return ALLOW_ALL
        args: list[Any] = ["" if self._clock_ms is None else self._clock_ms()]
        for _key, rate in buckets:
            args += [rate.period * 1000 / rate.limit, rate.period * 1000]
        try:
            allowed, index, remaining, reset_ms, retry_ms = await self._script(
                keys=[self.PREFIX + key for key, _ in buckets], args=args
            )
        except Exception as exc:  # any failure of Redis: fail open, never a 500
            self._failed(exc, now)
            return ALLOW_ALL
        self._last_error = ""
        rate = buckets[int(index) - 1][1]
        return Decision(bool(allowed), rate, int(remaining), int(reset_ms) / 1000, int(retry_ms) / 1000)

    def _failed(self, exc: BaseException, now: float) -> None:
        self._down_until = now + self.RETRY_AFTER
        self._last_error = f"{type(exc).__name__}: {exc}"
        if now - self._last_log >= self.LOG_EVERY:
            self._last_log = now
            log.warning(
                "⚠️ Rate limiting fails open: Redis at %s unreachable (%s); requests pass unlimited until it"
                " is back",
                redact(self.url),
                self._last_error,
            )

    async def status(self) -> dict[str, Any]:
        try:
            await self.redis.ping()
            reachable = "ok"
        except Exception as exc:
            reachable = f"unreachable ({type(exc).__name__})"
        return {"backend": "redis", "redis": reachable, "url": redact(self.url)}

    async def close(self) -> None:
        await self.redis.aclose()


def make_limiter(redis_url: str) -> Limiter:
    return RedisLimiter(redis_url) if redis_url else MemoryLimiter()
