"""The unit of work: one transaction and the outbox that rides in it.

Routes and event handlers open it (the entrypoint owns the transaction); the service layer receives the
:class:`Tx` and only adds, flushes and emits. Everything commits once, at the end of the ``async with``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.db import Database
from crm.platform.events import Envelope
from crm.platform.outbox import Outbox


@dataclass
class Tx:
    session: AsyncSession
    outbox: Outbox
    service: str

    async def emit(self, *events: Envelope) -> None:
        """Publish ``events`` if and only if this transaction commits."""
        await self.outbox.add(self.session, *events)


class UnitOfWork:
    def __init__(self, db: Database, outbox: Outbox, service: str) -> None:
        self.db, self.outbox, self.service = db, outbox, service

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[Tx]:
        async with self.db.transaction() as session:
            yield Tx(session, self.outbox, self.service)
