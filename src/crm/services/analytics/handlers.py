"""analytics-service reactions: EVERY event type of the catalog is counted, then projected into its read
model. ``EVENT_HANDLERS`` answers "what does analytics do when X happens"; the functions live in
``projections/`` (one module per area). All of them write only in the ``tx`` they get, which also holds the
inbox row, so each event changes the read models exactly once."""

from __future__ import annotations

from crm.contracts import CATALOG, EventType
from crm.platform.consumer import Handler
from crm.services.analytics.projections import (
    activities,
    approvals,
    customers,
    notifications,
    pipeline,
    timeline,
    users,
)
from crm.services.analytics.projections.metrics import count_event
from crm.services.analytics.projections.rows import preloader

# timeline.record_customer_activity: every event naming a customer is also a line of its timeline.
PROJECTIONS: dict[EventType, list[Handler]] = {
    EventType.USER_CREATED: [users.user_created],
    EventType.USER_UPDATED: [users.user_updated],
    EventType.USER_DELETED: [users.user_deleted],
    EventType.CUSTOMER_CREATED: [customers.customer_created, timeline.record_customer_activity],
    EventType.CUSTOMER_UPDATED: [customers.customer_updated, timeline.record_customer_activity],
    EventType.CUSTOMER_DELETED: [customers.customer_deleted, timeline.record_customer_activity],
    EventType.CUSTOMER_RESTORED: [customers.customer_restored, timeline.record_customer_activity],
    EventType.MEETING_CREATED: [activities.meeting_created, timeline.record_customer_activity],
    EventType.MEETING_UPDATED: [activities.meeting_updated, timeline.record_customer_activity],
    EventType.TASK_CREATED: [activities.task_created, timeline.record_customer_activity],
    EventType.TASK_UPDATED: [activities.task_updated, timeline.record_customer_activity],
    EventType.TASK_COMPLETED: [activities.task_completed, timeline.record_customer_activity],
    EventType.OPPORTUNITY_CREATED: [pipeline.opportunity_created, timeline.record_customer_activity],
    EventType.OPPORTUNITY_STAGE_CHANGED: [
        pipeline.opportunity_stage_changed,
        timeline.record_customer_activity,
    ],
    # No notification on a request: the approvers' inbox is opportunity-service's pending-approvals list.
    EventType.APPROVAL_REQUESTED: [approvals.approval_requested, timeline.record_customer_activity],
    EventType.APPROVAL_STATUS_CHANGED: [approvals.approval_status_changed, timeline.record_customer_activity],
    EventType.TASK_DUE_SOON: [notifications.notify_task_due_soon],
    EventType.APPROVAL_RESULT: [notifications.notify_approval_result],
}

EVENT_HANDLERS: dict[str, list[Handler]] = {
    event_type: [count_event, *PROJECTIONS.get(event_type, [])] for event_type in CATALOG
}

PREPARE_BATCH = preloader(EVENT_HANDLERS)
"""Before a batch's handlers run: every row its events name, loaded in one SELECT per table (``rows.py``)."""
