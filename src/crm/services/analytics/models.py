"""analytics-service tables (its own database only): read models fed by every topic of the catalog.

Each entity the reports count has one row here (a user, a customer, a task, a deal...), upserted by its
events; reports are GROUP BY queries over indexed columns, so a late or repeated event can never leave a
counter off by one. ``state_at`` is the time of the newest event applied to a row's mutable state: an older
event arriving later fills what is missing and changes nothing else (order-tolerant). Apart from
``notification_reads``, every table here is recomputed by ``rebuild``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from crm.platform.inbox import inbox_table
from crm.platform.outbox import outbox_table
from crm.platform.types import UtcDateTime


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (Index("ix_users_role", "deleted", "role"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    role: Mapped[str | None] = mapped_column(String(20))
    created_on: Mapped[date | None] = mapped_column(Date)  # None until USER_CREATED is seen
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    state_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CustomerRow(Base):
    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_industry", "deleted", "industry"),
        Index("ix_customers_size", "deleted", "size"),
        Index("ix_customers_created_on", "created_on"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    industry: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[str | None] = mapped_column(String(20))
    owner_id: Mapped[str | None] = mapped_column(String(36))
    created_on: Mapped[date | None] = mapped_column(Date)  # None until CUSTOMER_CREATED is seen
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    restored_count: Mapped[int] = mapped_column(Integer, default=0)
    state_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TaskRow(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_status_due", "status", "due_date"),
        Index("ix_tasks_created_on", "created_on"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str | None] = mapped_column(String(20))  # manual | first_contact | follow_up
    priority: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str | None] = mapped_column(String(20))
    assignee_id: Mapped[str | None] = mapped_column(String(36))
    due_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_on: Mapped[date | None] = mapped_column(Date)  # None until TASK_CREATED is seen
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    state_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class MeetingRow(Base):
    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_status", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str | None] = mapped_column(String(20))  # SCHEDULED | COMPLETED | CANCELLED
    owner_id: Mapped[str | None] = mapped_column(String(36))
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_on: Mapped[date | None] = mapped_column(Date)  # None until MEETING_CREATED is seen
    state_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OpportunityRow(Base):
    __tablename__ = "opportunities"
    __table_args__ = (
        Index("ix_opportunities_stage", "stage", "currency"),
        Index("ix_opportunities_closed_on", "closed_on"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(36))
    owner_id: Mapped[str | None] = mapped_column(String(36))
    stage: Mapped[str | None] = mapped_column(String(20))
    # Hundredths, so SUM is exact on SQLite too (its NUMERIC goes through a float).
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str | None] = mapped_column(String(3))
    created_on: Mapped[date | None] = mapped_column(Date)  # None until OPPORTUNITY_CREATED is seen
    closed_on: Mapped[date | None] = mapped_column(Date)  # the day it reached WON/LOST; None while open
    state_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ApprovalRow(Base):
    __tablename__ = "approvals"
    __table_args__ = (Index("ix_approvals_status", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    opportunity_id: Mapped[str | None] = mapped_column(String(36))
    requester_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str | None] = mapped_column(String(20))
    requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # requested → APPROVED/REJECTED, kept as a number so AVG works the same on every database.
    decision_seconds: Mapped[float | None] = mapped_column(Float)
    state_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Notification(Base):
    """An in-app notification; at most one per source event (the unique key, besides the inbox)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user", "user_id", "created_at"),)

    # Derived from the source event id, so a rebuild gives every notification back its id.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_event_id: Mapped[str] = mapped_column(String(36), unique=True)
    user_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(40))  # the source event type
    title: Mapped[str] = mapped_column(String(300))
    subject_type: Mapped[str] = mapped_column(String(20))  # task | approval
    subject_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)  # the source event's time


class NotificationRead(Base):
    """Which notifications their user has read, keyed by source event: not cleared by a rebuild."""

    __tablename__ = "notification_reads"

    source_event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36))
    read_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CustomerActivity(Base):
    """One line of a customer's timeline: an event about the customer or its tasks, meetings, deals and
    approvals. Keyed by the source event id, so an event redelivered or replayed is one line."""

    __tablename__ = "customer_activity"
    __table_args__ = (Index("ix_customer_activity_customer", "customer_id", "at"),)

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(UtcDateTime)  # the event's time
    event_type: Mapped[str] = mapped_column(String(100))
    subject_id: Mapped[str] = mapped_column(String(36))  # the customer, task, meeting, deal or approval
    actor_id: Mapped[str | None] = mapped_column(String(36))  # who did it, when the event says
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)  # a few telling fields (name, status, stage…)


class EventCount(Base):
    """Events consumed per day (of the event's time, UTC), topic and type: what `crm kafka budget` reads."""

    __tablename__ = "event_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    topic: Mapped[str] = mapped_column(String(255), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


# The read models, in the order a rebuild clears them.
READ_MODELS = (
    UserRow,
    CustomerRow,
    TaskRow,
    MeetingRow,
    OpportunityRow,
    ApprovalRow,
    Notification,
    CustomerActivity,
    EventCount,
)

OUTBOX = outbox_table(Base.metadata)
INBOX = inbox_table(Base.metadata)
