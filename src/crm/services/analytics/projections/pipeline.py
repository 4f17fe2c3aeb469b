"""``opportunity.events`` (deals) → one row per opportunity: stage, amount, currency, owner."""

from __future__ import annotations

from decimal import Decimal

from crm.contracts import parse_payload
from crm.contracts.payloads.opportunities import OpportunityCreated, OpportunityStageChanged
from crm.platform.events import Envelope
from crm.platform.unit_of_work import Tx
from crm.services.analytics.models import OpportunityRow
from crm.services.analytics.projections.base import event_time, is_newer
from crm.services.analytics.projections.rows import get_or_new, loads

CENT = Decimal("0.01")
CLOSED = ("WON", "LOST")  # opportunity-service's final stages


def to_cents(amount: Decimal) -> int:
    return int(amount.quantize(CENT).scaleb(2))


def from_cents(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2).quantize(CENT)


@loads(OpportunityRow, "opportunityId")
async def opportunity_created(tx: Tx, event: Envelope) -> None:
    deal = parse_payload(event, OpportunityCreated)
    at = event_time(event)
    row = await get_or_new(tx, OpportunityRow, deal.opportunity_id)
    row.created_on, row.customer_id = at.date(), deal.customer_id
    if is_newer(row.state_at, at):  # else a stage change already applied is newer than the creation
        row.stage, row.amount_cents, row.currency = deal.stage, to_cents(deal.amount), deal.currency
        row.owner_id, row.state_at = deal.owner_id, at
        row.closed_on = at.date() if deal.stage in CLOSED else None


@loads(OpportunityRow, "opportunityId")
async def opportunity_stage_changed(tx: Tx, event: Envelope) -> None:
    deal = parse_payload(event, OpportunityStageChanged)
    at = event_time(event)
    row = await get_or_new(tx, OpportunityRow, deal.opportunity_id)
    row.customer_id = deal.customer_id
    if is_newer(row.state_at, at):
        row.stage, row.amount_cents, row.currency = deal.to_stage, to_cents(deal.amount), deal.currency
        row.owner_id, row.state_at = deal.owner_id, at
        row.closed_on = at.date() if deal.to_stage in CLOSED else None  # reopened: open again
