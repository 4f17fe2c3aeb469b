"""Role by endpoint: every route of the merged OpenAPI document, called by each of the five roles (and by
nobody), gets exactly what the rules allow. A route missing from RULES fails the test, so a new endpoint
cannot ship without deciding who may call it.

"Allowed" means the role passes the door: the answer is neither 401 nor 403 (it may still be 404 for an
unknown id, or 201/200). "Refused" means 403. Ownership rules (only the requester may recall, a rep sees
only their own customers) are tested in each service's own tests.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.embedded import running_embedded, token_for

ALL = frozenset({"ADMIN", "MANAGER", "SALES", "COMPLIANCE", "USER"})
WRITERS = ALL - {"COMPLIANCE"}
OVERSIGHT = frozenset({"ADMIN", "MANAGER", "COMPLIANCE"})
PUBLIC = None  # no token needed
# Routes that also check the account behind the token: a minted token has none, so 401 is right there.
ACCOUNT_CHECKED = {("GET", "/api/auth/me")}
# A live stream never ends: a bad cursor makes it answer (422) at once, once past the door.
PROBE_HEADERS = {("GET", "/api/stream"): {"Last-Event-ID": "not-a-cursor"}}

A_DAY = "2031-01-01T09:00:00Z"
# (method, path) -> (roles allowed, a body that is valid for an allowed role)
RULES: dict[tuple[str, str], tuple[frozenset[str] | None, dict[str, Any] | None]] = {
    ("POST", "/api/auth/register"): (PUBLIC, None),
    ("POST", "/api/auth/login"): (PUBLIC, None),
    ("POST", "/api/auth/refresh"): (PUBLIC, None),
    ("POST", "/api/auth/token"): (PUBLIC, None),  # an integration's API key for an access token
    ("GET", "/api/auth/.well-known/jwks.json"): (PUBLIC, None),
    ("POST", "/api/auth/logout"): (ALL, None),
    ("GET", "/api/auth/me"): (ALL, None),
    ("GET", "/api/auth/users"): (frozenset({"ADMIN"}), None),
    ("POST", "/api/auth/users"): (
        frozenset({"ADMIN"}),
        {"email": "new@example.com", "password": "Password123!", "name": "N", "role": "SALES"},
    ),
    ("GET", "/api/auth/users/{user_id}"): (frozenset({"ADMIN"}), None),
    ("PATCH", "/api/auth/users/{user_id}"): (frozenset({"ADMIN"}), {"name": "Renamed"}),
    ("DELETE", "/api/auth/users/{user_id}"): (frozenset({"ADMIN"}), None),
    ("GET", "/api/auth/audit"): (frozenset({"ADMIN", "COMPLIANCE"}), None),
    ("POST", "/api/auth/api-keys"): (frozenset({"ADMIN"}), {"name": "Matrix", "role": "USER"}),
    ("GET", "/api/auth/api-keys"): (frozenset({"ADMIN"}), None),
    ("DELETE", "/api/auth/api-keys/{key_id}"): (frozenset({"ADMIN"}), None),
    ("POST", "/api/customers"): (WRITERS, {"name": "Matrix Co"}),
    ("GET", "/api/customers"): (ALL, None),
    ("GET", "/api/customers/{customer_id}"): (ALL, None),
    ("PATCH", "/api/customers/{customer_id}"): (WRITERS, {"name": "X"}),
    ("PUT", "/api/customers/{customer_id}"): (WRITERS, {"name": "X"}),
    ("DELETE", "/api/customers/{customer_id}"): (WRITERS, None),
    ("POST", "/api/customers/{customer_id}/restore"): (WRITERS, None),
    ("POST", "/api/tasks"): (WRITERS, {"title": "Call"}),
    ("GET", "/api/tasks"): (ALL, None),
    ("GET", "/api/tasks/{task_id}"): (ALL, None),
    ("PATCH", "/api/tasks/{task_id}"): (WRITERS, {"priority": "HIGH"}),
    ("DELETE", "/api/tasks/{task_id}"): (WRITERS, None),
    ("POST", "/api/tasks/{task_id}/complete"): (WRITERS, None),
    ("POST", "/api/meetings"): (
        WRITERS,
        {"customerId": str(uuid.uuid4()), "title": "Kickoff", "startsAt": A_DAY},
    ),
    ("GET", "/api/meetings"): (ALL, None),
    ("GET", "/api/meetings/{meeting_id}"): (ALL, None),
    ("PATCH", "/api/meetings/{meeting_id}"): (WRITERS, {"title": "Moved"}),
    ("DELETE", "/api/meetings/{meeting_id}"): (WRITERS, None),
    ("POST", "/api/opportunities"): (
        WRITERS,
        {"customerId": str(uuid.uuid4()), "name": "Deal", "amount": "10"},
    ),
    ("GET", "/api/opportunities"): (ALL, None),
    ("GET", "/api/opportunities/{opportunity_id}"): (ALL, None),
    ("PATCH", "/api/opportunities/{opportunity_id}"): (WRITERS, {"name": "Deal 2"}),
    ("DELETE", "/api/opportunities/{opportunity_id}"): (WRITERS, None),
    ("GET", "/api/stream"): (ALL, None),  # the live events (the gateway's own route)
    ("POST", "/api/approvals"): (ALL, {"opportunityId": str(uuid.uuid4()), "title": "Discount"}),
    ("GET", "/api/approvals"): (ALL, None),
    ("GET", "/api/approvals/pending"): (OVERSIGHT, None),
    ("GET", "/api/approvals/{approval_id}"): (ALL, None),
    ("POST", "/api/approvals/{approval_id}/approve"): (OVERSIGHT, {"comment": "ok"}),
    ("POST", "/api/approvals/{approval_id}/reject"): (OVERSIGHT, {"comment": "no"}),
    ("POST", "/api/approvals/{approval_id}/recall"): (ALL, None),  # the requester's, whatever the role
    ("GET", "/api/reports/sales-summary"): (OVERSIGHT, None),
    ("GET", "/api/reports/customers"): (OVERSIGHT, None),
    ("GET", "/api/reports/customers/{customer_id}/timeline"): (ALL, None),  # owners: their own customers
    ("GET", "/api/reports/approvals"): (OVERSIGHT, None),
    ("GET", "/api/reports/tasks"): (OVERSIGHT, None),
    ("GET", "/api/reports/meetings"): (OVERSIGHT, None),
    ("GET", "/api/reports/users"): (OVERSIGHT, None),
    ("GET", "/api/notifications"): (ALL, None),
    ("GET", "/api/notifications/unread"): (ALL, None),
    ("POST", "/api/notifications/read-all"): (ALL, None),
    ("POST", "/api/notifications/{notification_id}/read"): (ALL, None),
    ("GET", "/api/metrics/events"): (frozenset({"ADMIN"}), None),
}


@pytest.fixture(scope="module")
async def crm(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    async with running_embedded(tmp_path_factory.mktemp("matrix")) as running:
        yield running


async def test_every_route_has_a_rule(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    document = (await client.get("/openapi.json")).json()
    routes = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    assert routes - RULES.keys() == set(), "routes without a role rule"
    assert RULES.keys() - routes == set(), "rules for routes that no longer exist"


@pytest.mark.parametrize("route", sorted(RULES), ids=lambda r: f"{r[0]} {r[1]}")
async def test_each_role_gets_what_the_rules_allow(crm, route: tuple[str, str]) -> None:  # type: ignore[no-untyped-def]
    live, client = crm
    method, template = route
    allowed, body = RULES[route]
    path = template
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + str(uuid.uuid4()) + path[end + 1 :]
    if allowed is PUBLIC:
        return  # public routes: their own tests cover bodies and errors
    anonymous = await client.request(method, path, json=body)
    assert anonymous.status_code == 401, f"{method} {template} without a token: {anonymous.status_code}"
    outcome: dict[str, int] = {}
    for role in sorted(ALL):
        _, token = token_for(live, role)
        headers = {"Authorization": f"Bearer {token}", **PROBE_HEADERS.get(route, {})}
        response = await client.request(method, path, json=body, headers=headers)
        outcome[role] = response.status_code
    refused = {role for role, status in outcome.items() if status == 403}
    if route not in ACCOUNT_CHECKED:
        assert all(status != 401 for status in outcome.values()), outcome
    assert refused == ALL - allowed, f"{method} {template}: {outcome}"
