"""`sort` on every list: each allowed value works, orders the whole list before paging (ties by id, empty
values last), the default order stays, and an unknown field is a 422 naming `sort` with the allowed values."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import pytest

from crm.services.analytics.schemas import NotificationSort
from crm.services.auth.schemas import ApiKeySort, AuditSort, UserSort
from crm.services.customer.schemas import CustomerSort
from crm.services.opportunity.schemas import ApprovalSort, OpportunitySort
from crm.services.sales_activity.schemas import MeetingSort, TaskSort
from tests.support.embedded import bearer, login, running_embedded, token_for
from tests.support.opportunity import quiesce
from tests.support.waiting import eventually

LISTS: list[tuple[str, Any]] = [
    ("/api/customers", CustomerSort),
    ("/api/tasks", TaskSort),
    ("/api/meetings", MeetingSort),
    ("/api/opportunities", OpportunitySort),
    ("/api/approvals", ApprovalSort),
    ("/api/approvals/pending", ApprovalSort),
    ("/api/auth/users", UserSort),
    ("/api/auth/audit", AuditSort),
    ("/api/auth/api-keys", ApiKeySort),
    ("/api/notifications", NotificationSort),
]
CUSTOMERS = [  # name, industry, size; created in this order
    ("beta", "Retail", "LARGE"),
    ("Alpha", None, "SMALL"),
    ("gamma", "Finance", None),
    ("Delta", "Retail", "ENTERPRISE"),
]


@pytest.fixture
async def crm(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with running_embedded(tmp_path) as (running, client):
        _id, token = token_for(running, "SALES")  # sees only the customers it creates
        for name, industry, size in CUSTOMERS:
            body = {"name": name, "industry": industry, "size": size}
            created = await client.post("/api/customers", headers=bearer(token), json=body)
            assert created.status_code == 201, created.text
        yield running, client, token
        await quiesce(running)


async def names(client: Any, token: str, **params: Any) -> list[str]:
    response = await client.get("/api/customers", headers=bearer(token), params=params)
    assert response.status_code == 200, response.text
    return [c["name"] for c in response.json()["items"]]


async def test_every_list_takes_each_of_its_sort_values(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client, _sales = crm
    token = (await login(client))["token"]  # an ADMIN may call every list
    for path, allowed in LISTS:
        for value in get_args(allowed):
            response = await client.get(path, headers=bearer(token), params={"sort": value})
            assert response.status_code == 200, (path, value, response.text)


async def test_customers_sorted_before_paging_with_empty_values_last(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client, token = crm
    assert await names(client, token) == ["Delta", "gamma", "Alpha", "beta"]  # the default: newest first
    assert await names(client, token, sort="name") == ["Alpha", "beta", "Delta", "gamma"]
    assert await names(client, token, sort="-name") == ["gamma", "Delta", "beta", "Alpha"]
    first = await names(client, token, sort="name", limit=2)
    second = await names(client, token, sort="name", limit=2, offset=2)
    assert first + second == ["Alpha", "beta", "Delta", "gamma"]
    assert await names(client, token, sort="size") == ["Alpha", "beta", "Delta", "gamma"]
    assert await names(client, token, sort="-size") == ["Delta", "beta", "Alpha", "gamma"]
    by_industry = await names(client, token, sort="industry")
    assert (
        by_industry[0] == "gamma" and set(by_industry[1:3]) == {"beta", "Delta"} and by_industry[3] == "Alpha"
    )
    assert (await names(client, token, sort="-industry"))[-1] == "Alpha"


async def test_tasks_newest_first_in_one_request(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client, token = crm

    async def first_contact_tasks() -> list[dict[str, Any]] | None:
        page = await client.get("/api/tasks", headers=bearer(token), params={"sort": "-createdAt"})
        items = page.json()["items"]
        return items if len(items) == len(CUSTOMERS) else None

    tasks = await eventually(first_contact_tasks, what="a first-contact task per customer")
    created = [t["createdAt"] for t in tasks]
    assert created == sorted(created, reverse=True)


async def test_an_unknown_sort_field_names_sort_and_the_allowed_values(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client, _sales = crm
    token = (await login(client))["token"]
    for path, allowed in LISTS:
        response = await client.get(path, headers=bearer(token), params={"sort": "password"})
        assert response.status_code == 422, (path, response.text)
        message = response.json()["fields"]["sort"]
        assert all(f"'{value}'" in message for value in get_args(allowed)), message
