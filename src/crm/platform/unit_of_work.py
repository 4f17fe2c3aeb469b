"""The unit of work: one transaction and the outbox that rides in it.

Routes and event handlers open it (the entrypoint owns the transaction); the service layer receives the
:class:`Tx` and only adds, flushes and emits. Everything commits once, at the end of the ``async with``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.db import Database
from crm.platform.events import Envelope
from crm.platform.outbox import Outbox

T = TypeVar("T")


@dataclass
class Tx:
    session: AsyncSession
    outbox: Outbox
    service: str
    _deferred: dict[str, tuple[Any, Callable[[Tx, Any], Awaitable[None]]]] = field(default_factory=dict)

    async def emit(self, *events: Envelope) -> None:
        """Publish ``events`` if and only if this transaction commits."""
        await self.outbox.add(self.session, *events)

    def accumulate(self, name: str, new: Callable[[], T], write: Callable[[Tx, T], Awaitable[None]]) -> T:
        """A value shared by every call made in this transaction under ``name`` (``new()`` the first time),
        handed to ``write`` once, just before the commit: e.g. counters summed over a consumer's batch of
        events and written in one statement instead of one per event. Kept or lost with the transaction."""
        if name not in self._deferred:
            self._deferred[name] = (new(), write)
        value: T = self._deferred[name][0]
        return value

    async def finish(self) -> None:
        """Write what was accumulated; whoever owns the transaction calls it last before committing."""
        while self._deferred:
            _name, (value, write) = self._deferred.popitem()
            await write(self, value)


class UnitOfWork:
    def __init__(self, db: Database, outbox: Outbox, service: str) -> None:
        self.db, self.outbox, self.service = db, outbox, service

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[Tx]:
        async with self.db.transaction() as session:
            tx = Tx(session, self.outbox, self.service)
            yield tx
            await tx.finish()
