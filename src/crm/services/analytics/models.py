"""analytics-service tables (its own database only)."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from crm.platform.inbox import inbox_table
from crm.platform.outbox import outbox_table


class Base(DeclarativeBase):
    pass


OUTBOX = outbox_table(Base.metadata)
INBOX = inbox_table(Base.metadata)
