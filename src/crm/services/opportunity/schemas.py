"""opportunity-service request and response bodies.

Amounts are exact decimals with at most 2 decimal places (up to 9999999999999999.99). Responses always
carry them as a JSON **string** with two decimals (``"1500000.00"``), so no client parses them through a
binary float; requests accept a string (recommended) or a JSON number.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from crm.platform.schemas import ApiModel

# `sort` on GET /api/opportunities (the allow-list of service.OPPORTUNITY_SORT).
OpportunitySort = Literal[
    "amount",
    "stage",
    "expectedCloseDate",
    "createdAt",
    "updatedAt",
    "-amount",
    "-stage",
    "-expectedCloseDate",
    "-createdAt",
    "-updatedAt",
]


# `sort` on GET /api/approvals and /pending (the allow-list of approvals_service.APPROVAL_SORT).
ApprovalSort = Literal["createdAt", "decidedAt", "-createdAt", "-decidedAt"]


class Stage(StrEnum):
    LEAD = "LEAD"
    QUALIFIED = "QUALIFIED"
    PROPOSAL = "PROPOSAL"
    NEGOTIATION = "NEGOTIATION"
    WON = "WON"
    LOST = "LOST"


FINAL_STAGES = frozenset({Stage.WON, Stage.LOST})
# The win probability (percent) a deal gets when none is given.
DEFAULT_PROBABILITY: dict[Stage, int] = {
    Stage.LEAD: 10,
    Stage.QUALIFIED: 25,
    Stage.PROPOSAL: 50,
    Stage.NEGOTIATION: 75,
    Stage.WON: 100,
    Stage.LOST: 0,
}


class ApproverRole(StrEnum):
    MANAGER = "MANAGER"
    ADMIN = "ADMIN"
    COMPLIANCE = "COMPLIANCE"


class ApprovalStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    RECALLED = "RECALLED"
    CANCELLED = "CANCELLED"


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Amount = Annotated[
    Decimal,
    Field(
        ge=0,
        max_digits=18,
        decimal_places=2,
        description='exact, ≥ 0, at most 2 decimals; a string ("1500000.00", recommended) or a number',
    ),
]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. JPY, USD, EUR")]
Probability = Annotated[int, Field(ge=0, le=100, description="win probability in percent")]
EntityId = Annotated[str, Field(min_length=1, max_length=36)]


class OpportunityCreate(ApiModel):
    customer_id: EntityId
    name: Name
    amount: Amount
    currency: Currency = "JPY"
    stage: Stage = Stage.LEAD
    probability: Probability | None = Field(None, description="default: by stage (LEAD 10 … WON 100)")
    expected_close_date: date | None = None
    owner_id: EntityId | None = Field(None, description="default: the caller; only MANAGER/ADMIN may set")


class OpportunityUpdate(ApiModel):
    """Only the fields sent change. ``expectedCloseDate: null`` clears the date; the other fields may not
    be null. A new stage without a probability resets the probability to the stage's default."""

    name: Name | None = None
    amount: Amount | None = None
    currency: Currency | None = None
    stage: Stage | None = None
    probability: Probability | None = None
    expected_close_date: date | None = None
    owner_id: EntityId | None = None

    @field_validator("name", "amount", "currency", "stage", "probability", "owner_id", mode="before")
    @classmethod
    def not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null")
        return value


class OpportunityOut(ApiModel):
    id: str
    customer_id: str
    name: str
    amount: Decimal = Field(description='a string with two decimals, e.g. "1500000.00"')
    currency: str
    stage: Stage
    probability: int
    expected_close_date: date | None
    owner_id: str
    created_by: str
    activity_count: int
    last_activity_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ApprovalCreate(ApiModel):
    opportunity_id: EntityId
    title: Name
    reason: str | None = Field(None, max_length=2000)
    approver_role: ApproverRole = ApproverRole.MANAGER


class Decision(ApiModel):
    comment: str | None = Field(None, max_length=2000)


class ApprovalOut(ApiModel):
    id: str
    opportunity_id: str
    customer_id: str
    requester_id: str
    approver_role: ApproverRole
    title: str
    reason: str | None
    status: ApprovalStatus
    decided_by: str | None
    decided_at: datetime | None
    comment: str | None
    created_at: datetime
    updated_at: datetime
