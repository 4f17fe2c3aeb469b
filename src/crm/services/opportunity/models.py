"""opportunity-service tables (its own database only): deals, their approvals, and the projection of the
customers this service has heard of (fed by ``customer.events``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

from crm.platform.inbox import inbox_table
from crm.platform.outbox import outbox_table
from crm.platform.types import UtcDateTime, utcnow

CENT = Decimal("0.01")


class Money(TypeDecorator[Decimal]):
    """An exact amount with two decimals: NUMERIC(18, 2) on PostgreSQL, integer hundredths on SQLite
    (whose NUMERIC goes through a float and would round amounts beyond 15 significant digits)."""

    impl = Numeric(18, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = Decimal(value).quantize(CENT)
        return int(exact.scaleb(2)) if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-2).quantize(CENT)
        return Decimal(value).quantize(CENT)


class Base(DeclarativeBase):
    pass


class Opportunity(Base):
    __tablename__ = "opportunities"
    __table_args__ = (
        Index("ix_opportunities_owner", "owner_id"),
        Index("ix_opportunities_customer", "customer_id"),
        Index("ix_opportunities_stage", "stage"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    stage: Mapped[str] = mapped_column(String(20))
    probability: Mapped[int] = mapped_column(Integer)
    expected_close_date: Mapped[date | None] = mapped_column(Date)
    owner_id: Mapped[str] = mapped_column(String(36))
    created_by: Mapped[str] = mapped_column(String(36))
    # Fed by sales-activity events that name this deal (one increment per event, by the inbox).
    activity_count: Mapped[int] = mapped_column(Integer, default=0)
    last_activity_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # when it became WON or LOST
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Approval(Base):
    __tablename__ = "approvals"
    __table_args__ = (
        Index("ix_approvals_status_role", "status", "approver_role"),
        Index("ix_approvals_opportunity", "opportunity_id"),
        Index("ix_approvals_requester", "requester_id"),
        Index("ix_approvals_customer", "customer_id"),
        # At most one PENDING approval per deal, whatever the concurrency.
        Index(
            "ux_approvals_one_pending",
            "opportunity_id",
            unique=True,
            postgresql_where=text("status = 'PENDING'"),
            sqlite_where=text("status = 'PENDING'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    opportunity_id: Mapped[str] = mapped_column(String(36), ForeignKey("opportunities.id"))
    customer_id: Mapped[str] = mapped_column(String(36))  # the deal's (it never changes)
    requester_id: Mapped[str] = mapped_column(String(36))
    approver_role: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    decided_by: Mapped[str | None] = mapped_column(String(36))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class KnownCustomer(Base):
    """What this service knows of a customer, from customer-service's events: enough to refuse deals on
    customers that do not exist or are deleted."""

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_id: Mapped[str | None] = mapped_column(String(36))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


OUTBOX = outbox_table(Base.metadata)
INBOX = inbox_table(Base.metadata)
