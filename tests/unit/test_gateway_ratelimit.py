"""GCRA with a fake clock: bursts, refill, Retry-After, several buckets at once; the in-memory limiter's
sweep; the rate syntax of the RATE_LIMIT_* variables."""

from __future__ import annotations

import pytest

from crm.platform.settings import ConfigError
from crm.services.gateway.config import Rate
from crm.services.gateway.ratelimit import Decision, MemoryLimiter, gcra


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


TEN_PER_MINUTE = Rate(10, 60.0)  # one every 6 s, bursts of 10


def limiter() -> tuple[MemoryLimiter, FakeClock]:
    clock = FakeClock()
    return MemoryLimiter(clock), clock


def test_a_burst_of_the_limit_passes_then_the_next_is_refused_with_retry_after() -> None:
    memory, _clock = limiter()
    decisions = [memory.check([("ip:1", TEN_PER_MINUTE)]) for _ in range(10)]
    assert all(d.allowed for d in decisions)
    assert [d.remaining for d in decisions] == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
    refused = memory.check([("ip:1", TEN_PER_MINUTE)])
    assert not refused.allowed and refused.remaining == 0
    assert refused.retry_after == pytest.approx(6.0), "one request's worth of refill: 60 s / 10"
    headers = dict(refused.headers())
    assert headers[b"retry-after"] == b"6"
    assert headers[b"ratelimit-limit"] == b"10" and headers[b"ratelimit-remaining"] == b"0"
    assert headers[b"ratelimit-policy"] == b"10;w=60"


def test_the_bucket_refills_one_request_per_interval_not_all_at_once() -> None:
    memory, clock = limiter()
    for _ in range(10):
        memory.check([("ip:1", TEN_PER_MINUTE)])
    clock.advance(5.9)
    assert not memory.check([("ip:1", TEN_PER_MINUTE)]).allowed
    clock.advance(0.1)  # 6 s: exactly one request is back
    again = memory.check([("ip:1", TEN_PER_MINUTE)])
    assert again.allowed and again.remaining == 0
    assert not memory.check([("ip:1", TEN_PER_MINUTE)]).allowed
    clock.advance(60)  # a full period: a full burst again
    assert memory.check([("ip:1", TEN_PER_MINUTE)]).remaining == 9


def test_refused_requests_do_not_consume_the_bucket() -> None:
    memory, clock = limiter()
    for _ in range(10):
        memory.check([("ip:1", TEN_PER_MINUTE)])
    for _ in range(50):  # a client hammering while refused does not push its own recovery further out
        assert not memory.check([("ip:1", TEN_PER_MINUTE)]).allowed
    clock.advance(6)
    assert memory.check([("ip:1", TEN_PER_MINUTE)]).allowed


def test_no_double_burst_at_a_window_edge() -> None:
    """A fixed window would allow 10 at 0:59 and 10 more at 1:00; GCRA allows the burst once per period."""
    memory, clock = limiter()
    clock.advance(59)
    assert sum(memory.check([("ip:1", TEN_PER_MINUTE)]).allowed for _ in range(10)) == 10
    clock.advance(1)
    assert sum(memory.check([("ip:1", TEN_PER_MINUTE)]).allowed for _ in range(10)) == 0


def test_buckets_are_independent_per_key() -> None:
    memory, _clock = limiter()
    for _ in range(10):
        memory.check([("ip:1", TEN_PER_MINUTE)])
    assert memory.check([("ip:2", TEN_PER_MINUTE)]).allowed


def test_several_buckets_all_must_allow_and_a_refusal_charges_none() -> None:
    memory, _clock = limiter()
    strict = Rate(2, 60.0)
    both = [("ip:1", TEN_PER_MINUTE), ("auth:1", strict)]
    first, second = memory.check(both), memory.check(both)
    assert first.allowed and second.allowed
    assert second.rate == strict and second.remaining == 0, "the headers describe the tightest bucket"
    third = memory.check(both)
    assert not third.allowed and third.rate == strict
    assert third.retry_after == pytest.approx(30.0)
    # The refused request did not count against the IP bucket: 8 more plain requests pass, the 9th not.
    plain = [memory.check([("ip:1", TEN_PER_MINUTE)]).allowed for _ in range(9)]
    assert plain == [True] * 8 + [False]


def test_the_longest_wait_is_reported_when_several_buckets_refuse() -> None:
    tats = [1_060.0, 1_030.0 + 30]  # both full: the first refills in 6 s, the second (2/min) in 30 s
    decision, new_tats = gcra(tats, 1_000.0, [("a", TEN_PER_MINUTE), ("b", Rate(2, 60.0))])
    assert not decision.allowed and decision.retry_after == pytest.approx(30.0)
    assert new_tats == tats, "nothing charged"


def test_the_reset_is_the_time_until_the_bucket_is_full_again() -> None:
    memory, _clock = limiter()
    decision = memory.check([("ip:1", TEN_PER_MINUTE)])
    assert decision.reset == pytest.approx(6.0)
    for _ in range(4):
        decision = memory.check([("ip:1", TEN_PER_MINUTE)])
    assert decision.reset == pytest.approx(30.0)
    assert dict(decision.headers())[b"ratelimit-reset"] == b"30"


def test_full_buckets_are_swept_from_memory() -> None:
    memory, clock = limiter()
    for n in range(100):
        memory.check([(f"ip:{n}", TEN_PER_MINUTE)])
    assert len(memory.tats) == 100
    clock.advance(MemoryLimiter.SWEEP_EVERY + 1)
    memory.check([("ip:new", TEN_PER_MINUTE)])
    assert list(memory.tats) == ["ip:new"], "buckets that refilled are forgotten (a full bucket = no entry)"


def test_a_decision_describes_itself_in_headers_only_with_retry_after_when_refused() -> None:
    allowed = Decision(True, TEN_PER_MINUTE, 3, 42.2)
    names = [name for name, _ in allowed.headers()]
    assert b"retry-after" not in names
    assert dict(allowed.headers())[b"ratelimit-reset"] == b"43"


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("100/900", Rate(100, 900.0)),
        ("10/60", Rate(10, 60.0)),
        (" 100 / 15m ", Rate(100, 900.0)),
        ("5/1h", Rate(5, 3600.0)),
        ("3/0.5", Rate(3, 0.5)),
        ("off", None),
    ],
)
def test_rates_are_requests_per_seconds(text: str, rate: Rate | None) -> None:
    assert Rate.parse("RATE_LIMIT_PER_IP", text) == rate


@pytest.mark.parametrize("text", ["100", "100/", "/60", "ten/60", "0/60", "100/0", "100/15d", "-1/60"])
def test_a_bad_rate_names_its_variable(text: str) -> None:
    with pytest.raises(ConfigError, match="RATE_LIMIT_AUTH"):
        Rate.parse("RATE_LIMIT_AUTH", text)
