"""The reports and metrics: a few GROUP BY queries over the read models (indexed columns), shaped here.

Every entity analytics has heard of counts, also one whose creation event it never saw (pruned from a topic
before a rebuild, say): a stage change alone says all a deal's line needs. What an entity's events did not
say (a task's kind, a customer's size) is counted under ``UNSPECIFIED``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from crm.platform.types import utcnow
from crm.platform.unit_of_work import Tx
from crm.services.analytics.models import (
    ApprovalRow,
    CustomerRow,
    EventCount,
    MeetingRow,
    OpportunityRow,
    TaskRow,
    UserRow,
)
from crm.services.analytics.projections.approvals import DECIDED
from crm.services.analytics.projections.pipeline import CLOSED, from_cents
from crm.services.analytics.schemas import (
    UNSPECIFIED,
    ApprovalReport,
    CurrencyValue,
    CustomerReport,
    DayCount,
    EventCounts,
    EventMetrics,
    MeetingReport,
    SalesSummary,
    StageValue,
    TaskCounts,
    TaskReport,
    UserReport,
)

WON, LOST = "WON", "LOST"
# opportunity-service's open stages, in funnel order; any other stage follows them alphabetically.
FUNNEL = ("LEAD", "QUALIFIED", "PROPOSAL", "NEGOTIATION")
OPEN_TASK = ("TODO", "IN_PROGRESS")
CREATED_PER_DAY_WINDOW = 30  # days of the per-day series without a period
CREATED_PER_DAY_MAX = 366  # the most days of it with one (the period's last ones)


@dataclass(frozen=True)
class Period:
    """Whole UTC days, both ends inclusive; an end left None is open (all time before or after)."""

    start: date | None = None
    end: date | None = None

    def on_days(self, column: Any) -> list[ColumnElement[bool]]:
        """Conditions keeping rows whose ``column`` (a date) falls in the period; none for all time."""
        conditions = [] if self.start is None else [column >= self.start]
        return conditions if self.end is None else [*conditions, column <= self.end]

    def on_times(self, column: Any) -> list[ColumnElement[bool]]:
        """The same for a timestamp ``column``: from the first day's midnight to the day after the last."""
        conditions = [] if self.start is None else [column >= _midnight(self.start)]
        return (
            conditions
            if self.end is None
            else [*conditions, column < _midnight(self.end + timedelta(days=1))]
        )


ALL_TIME = Period()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


async def sales_summary(tx: Tx, period: Period = ALL_TIME) -> SalesSummary:
    """The open pipeline as it stands, and the deals won and lost: all, or those closed in ``period``."""
    deal = OpportunityRow
    query = select(deal.stage, deal.currency, func.count(), func.coalesce(func.sum(deal.amount_cents), 0))
    if period != ALL_TIME:
        closed_in_period = and_(*period.on_days(deal.closed_on))
        query = query.where(or_(deal.stage.is_(None), deal.stage.not_in(CLOSED), closed_in_period))
    rows = await tx.session.execute(query.group_by(deal.stage, deal.currency))
    pipeline: list[StageValue] = []
    counts: Counter[str] = Counter()
    open_value: Counter[str] = Counter()
    won_value: Counter[str] = Counter()
    for stage, currency, count, cents in rows:
        stage, currency = stage or UNSPECIFIED, currency or UNSPECIFIED
        pipeline.append(StageValue(stage=stage, currency=currency, count=count, value=from_cents(cents)))
        counts[stage] += count
        if stage == WON:
            won_value[currency] += cents
        elif stage != LOST:
            open_value[currency] += cents
    pipeline.sort(key=lambda line: (_stage_rank(line.stage), line.stage, line.currency))
    return SalesSummary(
        pipeline=pipeline,
        open_value=_by_currency(open_value),
        deals_won=counts[WON],
        deals_lost=counts[LOST],
        win_rate=_rate(counts[WON], counts[WON] + counts[LOST]),
        value_won=_by_currency(won_value),
    )


def _stage_rank(stage: str) -> int:
    """The funnel's stages in order, then other open stages, then WON, then LOST."""
    if stage in FUNNEL:
        return FUNNEL.index(stage)
    return {WON: len(FUNNEL) + 1, LOST: len(FUNNEL) + 2}.get(stage, len(FUNNEL))


def _by_currency(cents: Counter[str]) -> list[CurrencyValue]:
    return [CurrencyValue(currency=c, value=from_cents(v)) for c, v in sorted(cents.items())]


async def customer_report(tx: Tx, period: Period = ALL_TIME) -> CustomerReport:
    """Customers (all, or those created in ``period``) by industry and size, and created per day: the last
    30 days without a period, else the period's days up to today (its last 366 at most)."""
    customer = CustomerRow
    rows = await tx.session.execute(
        select(
            customer.industry,
            customer.size,
            customer.deleted,
            func.count(),
            func.sum(customer.restored_count),
        )
        .where(*period.on_days(customer.created_on))
        .group_by(customer.industry, customer.size, customer.deleted)
    )
    by_industry: Counter[str] = Counter()
    by_size: Counter[str] = Counter()
    deleted = restored = 0
    for industry, size, is_deleted, count, restorations in rows:
        restored += int(restorations or 0)
        if is_deleted:
            deleted += count
            continue
        by_industry[industry or UNSPECIFIED] += count
        by_size[size or UNSPECIFIED] += count
    first, last = _series_days(period)
    created = await tx.session.execute(
        select(customer.created_on, func.count())
        .where(customer.created_on >= first, customer.created_on <= last)
        .group_by(customer.created_on)
    )
    per_day = {day: count for day, count in created}
    return CustomerReport(
        total=sum(by_industry.values()),
        deleted=deleted,
        restored=restored,
        by_industry=dict(sorted(by_industry.items())),
        by_size=dict(sorted(by_size.items())),
        created_per_day=[
            DayCount(day=day, count=per_day.get(day, 0))
            for day in (first + timedelta(days=n) for n in range((last - first).days + 1))
        ],
    )


def _series_days(period: Period) -> tuple[date, date]:
    """The first and last day of the customers-created-per-day series for ``period``."""
    last = period.end or max(utcnow().date(), period.start or date.min)
    first = period.start or last - timedelta(days=CREATED_PER_DAY_WINDOW - 1)
    return max(first, last - timedelta(days=CREATED_PER_DAY_MAX - 1)), last


async def approval_report(tx: Tx, period: Period = ALL_TIME) -> ApprovalReport:
    """Approvals (all, or those requested in ``period``) by status, and their average time to a decision."""
    approval = ApprovalRow
    asked = period.on_times(approval.requested_at)
    rows = await tx.session.execute(
        select(approval.status, func.count())
        .where(approval.status.is_not(None), *asked)
        .group_by(approval.status)
    )
    by_status = {status: count for status, count in rows}
    average = await tx.session.scalar(
        select(func.avg(approval.decision_seconds)).where(
            approval.status.in_(DECIDED), approval.decision_seconds.is_not(None), *asked
        )
    )
    return ApprovalReport(
        total=sum(by_status.values()),
        by_status=dict(sorted(by_status.items())),
        decided=sum(by_status.get(s, 0) for s in DECIDED),
        average_decision_hours=None if average is None else round(float(average) / 3600, 2),
    )


async def task_report(tx: Tx, period: Period = ALL_TIME) -> TaskReport:
    """Tasks (all, or those created in ``period``) by outcome, priority and kind."""
    task = TaskRow
    overdue = case((and_(task.status.in_(OPEN_TASK), task.due_date < utcnow()), 1), else_=0)
    rows = await tx.session.execute(
        select(task.priority, task.kind, task.status, func.count(), func.sum(overdue))
        .where(*period.on_days(task.created_on))
        .group_by(task.priority, task.kind, task.status)
    )
    total: Counter[str] = Counter()
    by_priority: defaultdict[str, Counter[str]] = defaultdict(Counter)
    by_kind: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for priority, kind, status, count, late in rows:
        tally = Counter(created=count, overdue=int(late or 0))
        if status == "COMPLETED":
            tally["completed"] += count
        elif status == "CANCELLED":
            tally["cancelled"] += count
        elif status in OPEN_TASK:
            tally["open"] += count
        for counter in (total, by_priority[priority or UNSPECIFIED], by_kind[kind or UNSPECIFIED]):
            counter.update(tally)
    return TaskReport(
        **_task_counts(total).model_dump(),
        completion_rate=_rate(total["completed"], total["created"] - total["cancelled"]),
        by_priority={p: _task_counts(c) for p, c in sorted(by_priority.items())},
        by_kind={k: _task_counts(c) for k, c in sorted(by_kind.items())},
    )


def _task_counts(counter: Counter[str]) -> TaskCounts:
    return TaskCounts(**{name: counter[name] for name in TaskCounts.model_fields})


async def meeting_report(tx: Tx) -> MeetingReport:
    meeting = MeetingRow
    rows = await tx.session.execute(select(meeting.status, func.count()).group_by(meeting.status))
    by_status = {status: count for status, count in rows}
    return MeetingReport(
        created=sum(by_status.values()),
        scheduled=by_status.get("SCHEDULED", 0),
        completed=by_status.get("COMPLETED", 0),
        cancelled=by_status.get("CANCELLED", 0),
    )


async def user_report(tx: Tx) -> UserReport:
    user = UserRow
    rows = await tx.session.execute(
        select(user.role, user.deleted, func.count()).group_by(user.role, user.deleted)
    )
    by_role: Counter[str] = Counter()
    deleted = 0
    for role, is_deleted, count in rows:
        if is_deleted:
            deleted += count
        else:
            by_role[role or UNSPECIFIED] += count
    return UserReport(total=sum(by_role.values()), deleted=deleted, by_role=dict(sorted(by_role.items())))


async def event_metrics(tx: Tx, day: date | None = None) -> EventMetrics:
    """Events consumed on ``day`` (default today, UTC) and in its month, by topic and by type."""
    day = day or utcnow().date()
    month_start = day.replace(day=1)
    rows = await tx.session.execute(
        select(EventCount.day, EventCount.topic, EventCount.event_type, EventCount.count).where(
            EventCount.day >= month_start, EventCount.day <= day
        )
    )
    today, month = _EventTally(), _EventTally()
    for row_day, topic, event_type, count in rows:
        month.add(topic, event_type, count)
        if row_day == day:
            today.add(topic, event_type, count)
    return EventMetrics(day=day, month=day.strftime("%Y-%m"), today=today.out(), this_month=month.out())


class _EventTally:
    def __init__(self) -> None:
        self.by_topic: Counter[str] = Counter()
        self.by_type: Counter[str] = Counter()

    def add(self, topic: str, event_type: str, count: int) -> None:
        self.by_topic[topic] += count
        self.by_type[event_type] += count

    def out(self) -> EventCounts:
        return EventCounts(
            total=sum(self.by_topic.values()),
            by_topic=dict(sorted(self.by_topic.items())),
            by_type=dict(sorted(self.by_type.items())),
        )
