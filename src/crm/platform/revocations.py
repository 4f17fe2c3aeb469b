"""Revoked access tokens, refused by every process within a second of the revocation.

auth publishes each revocation as an event through its outbox (so it is never lost); every process *tails* the
topic (:class:`crm.platform.bus.Tailing`: no consumer group, since every instance must see every revocation)
from "now minus the access-token lifetime" on, and keeps the list in memory. Anything older concerns tokens
that have expired anyway, so a process that starts late still learns every revocation that matters.

Two kinds: one token (logout, refresh-token reuse), or every token of a subject issued up to a moment (a
deleted user, a revoked API key). Which events mean what is the caller's ``parse``: the platform knows no
event type.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from crm.platform.aio import reconnect_delay, wait_until
from crm.platform.bus import Subscription, Tailing
from crm.platform.events import Envelope, EnvelopeError
from crm.platform.tokens import LEEWAY_SECONDS, Principal

# How far a subject revocation reaches past its moment (a token issued in the same second, clocks apart).
SUBJECT_MARGIN = timedelta(seconds=LEEWAY_SECONDS)


@dataclass(frozen=True)
class Revocation:
    token_id: str = ""
    expires_at: datetime | None = None  # of the token: the entry is forgotten after it
    subject: str = ""  # or: every token of this subject issued up to ``before``
    before: datetime | None = None

    @classmethod
    def token(cls, token_id: str, expires_at: datetime) -> Revocation:
        return cls(token_id=token_id, expires_at=expires_at)

    @classmethod
    def of_subject(cls, subject: str, before: datetime) -> Revocation:
        return cls(subject=subject, before=before)


class RevocationList:
    """In memory, pruned as entries stop mattering; ``window`` is the longest an access token lives."""

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self._tokens: dict[str, float] = {}  # jti -> expiry (epoch seconds)
        self._subjects: dict[str, float] = {}  # subject -> tokens issued up to then are refused
        self._pruned = time.time()

    def __len__(self) -> int:
        return len(self._tokens) + len(self._subjects)

    def add(self, revocation: Revocation) -> None:
        if revocation.token_id:
            expires = revocation.expires_at or datetime.now(UTC) + self.window
            self._tokens[revocation.token_id] = expires.timestamp() + LEEWAY_SECONDS
        if revocation.subject and revocation.before is not None:
            before = (revocation.before + SUBJECT_MARGIN).timestamp()
            self._subjects[revocation.subject] = max(before, self._subjects.get(revocation.subject, 0.0))
        if time.time() - self._pruned > 60:
            self.prune()

    def is_revoked(self, principal: Principal) -> bool:
        if principal.token_id in self._tokens:
            return True
        before = self._subjects.get(principal.id)
        if before is None:
            return False
        issued = principal.issued_at.timestamp() if principal.issued_at else 0.0
        return issued <= before

    def prune(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        self._tokens = {k: v for k, v in self._tokens.items() if v > now}
        reach = self.window.total_seconds() + LEEWAY_SECONDS
        self._subjects = {k: v for k, v in self._subjects.items() if v + reach > now}
        self._pruned = now


Parse = Callable[[Envelope], Revocation | None]


class RevocationFeed:
    """Tails ``topics`` into ``revocations`` until stopped; reconnects with backoff (rereading is
    harmless)."""

    def __init__(
        self,
        bus: Tailing,
        topics: Sequence[str],
        parse: Parse,
        revocations: RevocationList,
        log: logging.LoggerAdapter[logging.Logger] | logging.Logger,
    ) -> None:
        self.bus, self.topics, self.parse, self.revocations = bus, list(topics), parse, revocations
        self.log = log
        self.live = asyncio.Event()  # caught up with the topic
        self.applied = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.ensure_future(self.run())
        self._task.set_name("revocation-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await wait_until(self._task, 5)
            self._task = None

    def status(self) -> dict[str, Any]:
        state = "live" if self.live.is_set() else "catching up" if self.applied else "connecting"
        return {"revocations": {"feed": state, "tracked": len(self.revocations)}}

    async def run(self) -> None:
        failures = 0
        while True:
            subscription: Subscription | None = None
            try:
                since = datetime.now(UTC) - self.revocations.window
                subscription = await self.bus.tail(self.topics, since)
                failures = 0
                while True:
                    records = await subscription.fetch(max_records=500, timeout=1.0)
                    for record in records:
                        self._apply(record.topic, record.value, record.headers)
                    if not records:
                        self.live.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.live.clear()
                failures += 1
                delay = reconnect_delay(failures)
                # the topic missing on a first start is normal (a service is creating it): quiet at first
                level = logging.INFO if failures <= 3 else logging.WARNING
                self.log.log(level, "🔁 Revocation feed: %s; reconnecting in %.1fs", exc, delay)
                await asyncio.sleep(delay)
            finally:
                if subscription is not None:
                    with contextlib.suppress(Exception):
                        await subscription.close()

    def _apply(self, topic: str, value: bytes | None, headers: list[tuple[str, bytes]]) -> None:
        try:
            revocation = self.parse(Envelope.from_record(topic, value, headers))
        except EnvelopeError:
            return  # not an event: the consumers dead-letter it, this reader only skips it
        except Exception as exc:  # an event this version cannot read: never stop the feed for it
            self.log.warning("⚠️ Revocation feed skipped a record of %s: %s", topic, type(exc).__name__)
            return
        if revocation is not None:
            self.revocations.add(revocation)
            self.applied += 1
