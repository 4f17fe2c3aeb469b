"""``customer.events`` → one row per customer: industry, size, owner, deleted, times restored."""

from __future__ import annotations

from typing import Any

from crm.contracts import parse_payload
from crm.contracts.payloads.customers import (
    CustomerCreated,
    CustomerDeleted,
    CustomerRestored,
    CustomerUpdated,
)
from crm.platform.events import Envelope
from crm.platform.unit_of_work import Tx
from crm.services.analytics.models import CustomerRow
from crm.services.analytics.projections.base import event_time, is_newer
from crm.services.analytics.projections.rows import get_or_new, loads


async def _row(tx: Tx, customer_id: str) -> CustomerRow:
    return await get_or_new(tx, CustomerRow, customer_id)


@loads(CustomerRow, "customerId")
async def customer_created(tx: Tx, event: Envelope) -> None:
    customer = parse_payload(event, CustomerCreated)
    at = event_time(event)
    row = await _row(tx, customer.customer_id)
    row.created_on = at.date()
    newer = is_newer(row.state_at, at)
    # An update applied before its creation keeps its fields; the creation fills the rest.
    row.industry = customer.industry if newer or row.industry is None else row.industry
    row.size = customer.size if newer or row.size is None else row.size
    row.owner_id = customer.owner_id if newer or row.owner_id is None else row.owner_id
    if newer:
        row.state_at = at


@loads(CustomerRow, "customerId")
async def customer_updated(tx: Tx, event: Envelope) -> None:
    customer = parse_payload(event, CustomerUpdated)
    at = event_time(event)
    row = await _row(tx, customer.customer_id)
    if not is_newer(row.state_at, at):
        return
    changes = customer.changes
    if "industry" in changes:
        row.industry = _new_value(changes["industry"])
    if "size" in changes:
        row.size = _new_value(changes["size"])
    if customer.owner_id is not None:
        row.owner_id = customer.owner_id
    row.state_at = at


def _new_value(change: Any) -> Any:
    """``changes`` holds either the new value or ``{"from": old, "to": new}``."""
    if isinstance(change, dict) and "to" in change:
        return change["to"]
    return change


@loads(CustomerRow, "customerId")
async def customer_deleted(tx: Tx, event: Envelope) -> None:
    customer = parse_payload(event, CustomerDeleted)
    at = event_time(event)
    row = await _row(tx, customer.customer_id)
    if is_newer(row.state_at, at):
        row.deleted, row.state_at = True, at


@loads(CustomerRow, "customerId")
async def customer_restored(tx: Tx, event: Envelope) -> None:
    customer = parse_payload(event, CustomerRestored)
    at = event_time(event)
    row = await _row(tx, customer.customer_id)
    row.restored_count += 1  # once per event: the inbox guarantees it
    if is_newer(row.state_at, at):
        row.deleted, row.state_at = False, at
