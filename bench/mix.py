"""A stream of mixed CRM events, as the five services publish them: users sign up, customers are created and
edited, tasks and meetings scheduled and done, deals move through stages, approvals are asked and decided.
Every event is of a type analytics applies, with a valid payload of the catalog."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from crm.contracts import EventType as E
from crm.contracts import make_event
from crm.contracts.payloads import customers as c
from crm.contracts.payloads import notifications as n
from crm.contracts.payloads import opportunities as o
from crm.contracts.payloads import sales_activity as s
from crm.contracts.payloads import users as u
from crm.platform.events import Envelope


def mixed_events(count: int, seed: int = 8) -> Iterator[Envelope]:
    """``count`` events; each cycle of 12 touches one user, one customer, one task, one meeting, one deal."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    produced = 0
    cycle = 0
    while produced < count:
        cycle += 1
        user, customer = f"user-{cycle}", f"cust-{cycle}"
        task, meeting, deal, approval = f"task-{cycle}", f"meet-{cycle}", f"deal-{cycle}", f"appr-{cycle}"
        amount = Decimal(rng.randrange(1_000, 100_000_00)) / 100
        industry = rng.choice(["Retail", "Finance", "Technology", "Healthcare"])
        due = now + timedelta(days=rng.randrange(-5, 20))
        events = [
            make_event(E.USER_CREATED, u.UserCreated(
                user_id=user, email=f"{user}@x.com", name=user, role="SALES", created_at=now
            ), subject=user, source="auth-service"),
            make_event(E.CUSTOMER_CREATED, c.CustomerCreated(
                customer_id=customer, name=customer, industry=industry, size="SMALL", owner_id=user
            ), subject=customer, source="customer-service"),
            make_event(E.CUSTOMER_UPDATED, c.CustomerUpdated(
                customer_id=customer, owner_id=user, changes={"size": "MEDIUM"}
            ), subject=customer, source="customer-service"),
            make_event(E.TASK_CREATED, s.TaskCreated(
                task_id=task, title="Call", customer_id=customer, assignee_id=user, status="TODO",
                priority="HIGH", due_date=due, kind="first_contact",
            ), subject=task, source="sales-activity-service"),
            make_event(E.MEETING_CREATED, s.MeetingCreated(
                meeting_id=meeting, customer_id=customer, owner_id=user, title="Demo", starts_at=due
            ), subject=meeting, source="sales-activity-service"),
            make_event(E.OPPORTUNITY_CREATED, o.OpportunityCreated(
                opportunity_id=deal, customer_id=customer, name="Deal", amount=amount, currency="USD",
                stage="PROSPECTING", owner_id=user, probability=10,
            ), subject=deal, source="opportunity-service"),
            make_event(E.OPPORTUNITY_STAGE_CHANGED, o.OpportunityStageChanged(
                opportunity_id=deal, customer_id=customer, owner_id=user, from_stage="PROSPECTING",
                to_stage="NEGOTIATION", amount=amount, currency="USD",
            ), subject=deal, source="opportunity-service"),
            make_event(E.APPROVAL_REQUESTED, o.ApprovalRequested(
                approval_id=approval, opportunity_id=deal, customer_id=customer, requester_id=user,
                approver_role="MANAGER", title="Discount", owner_id=user,
            ), subject=approval, source="opportunity-service"),
            make_event(E.APPROVAL_STATUS_CHANGED, o.ApprovalStatusChanged(
                approval_id=approval, opportunity_id=deal, customer_id=customer, requester_id=user,
                status="APPROVED", previous_status="PENDING", decided_by="manager", owner_id=user,
            ), subject=approval, source="opportunity-service"),
            make_event(E.APPROVAL_RESULT, n.ApprovalResult(
                approval_id=approval, opportunity_id=deal, requester_id=user, status="APPROVED",
                decided_by="manager",
            ), subject=approval, source="opportunity-service"),
            make_event(E.TASK_DUE_SOON, n.TaskDueSoon(
                task_id=task, assignee_id=user, title="Call", due_date=due, customer_id=customer
            ), subject=task, source="sales-activity-service"),
            make_event(E.TASK_COMPLETED, s.TaskCompleted(
                task_id=task, customer_id=customer, assignee_id=user, completed_by=user, completed_at=now,
                due_date=due, kind="first_contact",
            ), subject=task, source="sales-activity-service"),
        ]  # fmt: skip
        yield from events[: count - produced]
        produced += len(events)
