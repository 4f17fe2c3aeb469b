"""analytics-service response bodies (camelCase on the wire). Amounts are exact decimals, sent as strings
("1500.00"); rates are fractions of 1 rounded to 4 places, null when nothing was counted yet."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from crm.platform.schemas import ApiModel

UNSPECIFIED = "UNSPECIFIED"  # the key for a customer without industry or size, a deal without stage


# `sort` on GET /api/notifications (the allow-list of service.NOTIFICATION_SORT).
NotificationSort = Literal["createdAt", "kind", "-createdAt", "-kind"]


class CurrencyValue(ApiModel):
    currency: str
    value: Decimal


class StageValue(ApiModel):
    stage: str
    currency: str
    count: int
    value: Decimal


class SalesSummary(ApiModel):
    pipeline: list[StageValue]  # every stage, one line per currency
    open_value: list[CurrencyValue]  # stages other than WON and LOST
    deals_won: int
    deals_lost: int
    win_rate: float | None  # WON / (WON + LOST)
    value_won: list[CurrencyValue]


class DayCount(ApiModel):
    day: date
    count: int


class CustomerReport(ApiModel):
    total: int  # not deleted
    deleted: int
    restored: int  # restorations so far
    by_industry: dict[str, int]
    by_size: dict[str, int]
    created_per_day: list[DayCount]  # the last 30 days, oldest first, zeros included


class ApprovalReport(ApiModel):
    total: int
    by_status: dict[str, int]
    decided: int
    average_decision_hours: float | None  # requested → APPROVED/REJECTED


class TaskCounts(ApiModel):
    created: int
    completed: int
    cancelled: int
    open: int
    overdue: int  # open with a due date in the past


class TaskReport(TaskCounts):
    completion_rate: float | None  # completed / (created − cancelled)
    by_priority: dict[str, TaskCounts]
    by_kind: dict[str, TaskCounts]  # manual | first_contact | follow_up


class MeetingReport(ApiModel):
    created: int
    scheduled: int
    completed: int
    cancelled: int


class UserReport(ApiModel):
    total: int  # not deleted
    deleted: int
    by_role: dict[str, int]


class NotificationOut(ApiModel):
    id: str
    kind: str  # TASK_DUE_SOON | APPROVAL_RESULT
    title: str
    subject_type: str  # task | approval
    subject_id: str
    created_at: datetime
    read: bool
    read_at: datetime | None


class TimelineEntry(ApiModel):
    id: str  # the event's id
    type: str  # the event type: CUSTOMER_UPDATED, TASK_COMPLETED, APPROVAL_STATUS_CHANGED…
    at: datetime
    subject_id: str  # the customer, task, meeting, deal or approval the event is about
    actor_id: str | None  # who did it, when the event says
    detail: dict[str, Any]  # a few of the event's fields: name, title, status, fromStage/toStage, changed…


class UnreadNotifications(ApiModel):
    count: int
    items: list[NotificationOut]


class ReadAllResult(ApiModel):
    updated: int


class EventCounts(ApiModel):
    total: int
    by_topic: dict[str, int]
    by_type: dict[str, int]


class EventMetrics(ApiModel):
    day: date  # UTC
    month: str  # YYYY-MM
    today: EventCounts
    this_month: EventCounts
