"""Each list's `sort` values on the wire (the Literal the OpenAPI shows) are exactly its allow-list."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from crm.platform.pagination import Sortable
from crm.services.analytics import schemas as analytics_schemas
from crm.services.analytics import service as analytics
from crm.services.auth import api_keys, audit
from crm.services.auth import schemas as auth_schemas
from crm.services.auth import service as auth
from crm.services.customer import schemas as customer_schemas
from crm.services.customer import service as customers
from crm.services.opportunity import approvals_service
from crm.services.opportunity import schemas as opportunity_schemas
from crm.services.opportunity import service as opportunities
from crm.services.sales_activity import meetings, tasks
from crm.services.sales_activity import schemas as activity_schemas

LISTS: list[tuple[Any, Sortable]] = [
    (customer_schemas.CustomerSort, customers.CUSTOMER_SORT),
    (activity_schemas.TaskSort, tasks.TASK_SORT),
    (activity_schemas.MeetingSort, meetings.MEETING_SORT),
    (opportunity_schemas.OpportunitySort, opportunities.OPPORTUNITY_SORT),
    (opportunity_schemas.ApprovalSort, approvals_service.APPROVAL_SORT),
    (auth_schemas.UserSort, auth.USER_SORT),
    (auth_schemas.AuditSort, audit.AUDIT_SORT),
    (auth_schemas.ApiKeySort, api_keys.API_KEY_SORT),
    (analytics_schemas.NotificationSort, analytics.NOTIFICATION_SORT),
]


@pytest.mark.parametrize(("wire", "sortable"), LISTS)
def test_the_wire_values_are_the_allow_list(wire: Any, sortable: Sortable) -> None:
    assert get_args(wire) == sortable.values()


def test_a_sort_ends_with_the_tiebreak_and_puts_empty_values_last() -> None:
    order = customers.CUSTOMER_SORT.order("-industry")
    assert len(order) == 3 and order[-1] is customers.CUSTOMER_SORT.tiebreak
    assert "IS NULL" in str(order[0])
    assert customers.CUSTOMER_SORT.order(None) == tuple(customers.CUSTOMER_SORT.default)
