"""sales-activity-service request and response bodies.

Datetimes without a zone are taken as UTC; every datetime is answered in UTC. In a PATCH body only the fields
sent are changed; ``null`` clears an optional field and is refused for a required one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from crm.platform.schemas import ApiModel

# `sort` on GET /api/tasks (the allow-list of tasks.TASK_SORT).
TaskSort = Literal[
    "dueDate",
    "priority",
    "status",
    "createdAt",
    "updatedAt",
    "-dueDate",
    "-priority",
    "-status",
    "-createdAt",
    "-updatedAt",
]


# `sort` on GET /api/meetings (the allow-list of meetings.MEETING_SORT).
MeetingSort = Literal["startsAt", "createdAt", "updatedAt", "-startsAt", "-createdAt", "-updatedAt"]


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
Id = Annotated[str, Field(min_length=1, max_length=36)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Attendee = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class TaskStatus(StrEnum):
    TODO = "TODO"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


OPEN_TASK_STATUSES = (TaskStatus.TODO.value, TaskStatus.IN_PROGRESS.value)


class TaskPriority(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    URGENT = "URGENT"


class TaskKind(StrEnum):
    MANUAL = "manual"
    FIRST_CONTACT = "first_contact"
    FOLLOW_UP = "follow_up"


class MeetingStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class TaskCreate(ApiModel):
    title: Title
    description: str | None = Field(None, max_length=5000)
    customer_id: Id | None = None
    opportunity_id: Id | None = None
    assignee_id: Id | None = None
    status: TaskStatus = TaskStatus.TODO
    priority: TaskPriority = TaskPriority.MEDIUM
    due_date: UtcDatetime | None = None


class TaskUpdate(ApiModel):
    title: Title | None = None
    description: str | None = Field(None, max_length=5000)
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    due_date: UtcDatetime | None = None
    assignee_id: Id | None = None

    @field_validator("title", "status", "priority", "assignee_id", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null")
        return value


class TaskOut(ApiModel):
    id: str
    title: str
    description: str | None
    customer_id: str | None
    opportunity_id: str | None
    assignee_id: str | None
    created_by: str | None
    status: TaskStatus
    priority: TaskPriority
    due_date: datetime | None
    kind: TaskKind
    completed_at: datetime | None
    completed_by: str | None
    created_at: datetime
    updated_at: datetime


class MeetingCreate(ApiModel):
    customer_id: Id
    opportunity_id: Id | None = None
    title: Title
    starts_at: UtcDatetime
    ends_at: UtcDatetime | None = None
    summary: str | None = Field(None, max_length=5000)
    attendees: list[Attendee] = Field(default_factory=list, max_length=100)
    notes: str | None = Field(None, max_length=20000)
    location: str | None = Field(None, max_length=200)


class MeetingUpdate(ApiModel):
    customer_id: Id | None = None
    opportunity_id: Id | None = None
    title: Title | None = None
    starts_at: UtcDatetime | None = None
    ends_at: UtcDatetime | None = None
    summary: str | None = Field(None, max_length=5000)
    attendees: list[Attendee] | None = Field(None, max_length=100)
    notes: str | None = Field(None, max_length=20000)
    location: str | None = Field(None, max_length=200)
    status: MeetingStatus | None = None

    @field_validator("customer_id", "title", "starts_at", "attendees", "status", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null")
        return value


class MeetingOut(ApiModel):
    id: str
    customer_id: str
    opportunity_id: str | None
    owner_id: str
    title: str
    starts_at: datetime
    ends_at: datetime | None
    summary: str | None
    attendees: list[str]
    notes: str | None
    location: str | None
    status: MeetingStatus
    created_at: datetime
    updated_at: datetime
