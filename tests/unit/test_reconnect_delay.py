"""Every reader and writer of Kafka waits at most RETRY_CAP_SECONDS between two attempts: once the broker is
back, the relay, the consumers, the revocation feed and the live stream all resume within it (a revoked token
is refused again within seconds, not the 15-18 s a longer backoff allowed)."""

from __future__ import annotations

from crm.platform.aio import RETRY_CAP_SECONDS, reconnect_delay


def test_the_delay_grows_then_stays_under_the_cap_with_jitter() -> None:
    first = [reconnect_delay(1) for _ in range(200)]
    assert all(0.4 <= d <= 0.6 for d in first)
    later = [reconnect_delay(n) for n in range(3, 50) for _ in range(20)]
    assert all(d <= RETRY_CAP_SECONDS * 1.2 for d in later)
    assert max(later) > RETRY_CAP_SECONDS and min(later) < RETRY_CAP_SECONDS  # jittered, not in step
