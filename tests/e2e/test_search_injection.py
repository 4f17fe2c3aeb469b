"""Hostile input in every search and filter of every list endpoint, through the gateway: SQL metacharacters,
LIKE wildcards, NUL characters, very long strings and unicode get a normal answer — 200 with the right rows
(a search is a literal substring search: `%` and `_` match themselves), or 422 naming the parameter — never a
500, and never a row the caller may not see.

The endpoints and their parameters are read from the merged OpenAPI document, so a filter added later is
covered without editing this test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from crm.modes.embedded import Embedded
from tests.support.embedded import bearer, running_embedded, token_for
from tests.support.opportunity import known_customer, quiesce
from tests.support.waiting import eventually

SQL = [
    "' OR 1=1 --",
    "'; DROP TABLE customers; --",
    '" OR ""="',
    "1) OR (1=1",
    "\\",
    "' UNION SELECT password_hash FROM users --",
]
UNICODE = ["😀", "\u202eevil", "e\u0301", "日本語", "ʼ OR 1=1 --"]
NUL = "a\x00b"
PAGING = {"limit", "offset"}
# The searched fields of each endpoint's `q` (as the API returns them), to check what a wildcard matched.
SEARCHED = {
    "/api/customers": ("name", "email", "phone"),
    "/api/tasks": ("title", "description"),
    "/api/meetings": ("title", "summary"),
    "/api/opportunities": ("name",),
    "/api/auth/users": ("name", "email"),
}


@pytest.fixture(scope="module")
async def crm(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    async with running_embedded(tmp_path_factory.mktemp("injection"), RATE_LIMIT_ENABLED="false") as running:
        yield running
        await quiesce(running[0])


@pytest.fixture(scope="module")
async def world(crm: tuple[Embedded, httpx.AsyncClient]) -> dict[str, Any]:
    """A rep (A) with customers, tasks, meetings and deals whose names hold `%`, `_`, quotes and unicode; a
    second rep (B) who owns nothing; a manager and an admin who see everything."""
    embedded, client = crm
    _, rep_a = token_for(embedded, "SALES")
    _, rep_b = token_for(embedded, "SALES")
    _, manager = token_for(embedded, "MANAGER")
    _, admin = token_for(embedded, "ADMIN")
    names = ["100% Organic", "under_score Ltd", "O'Brien & Sons", "Müller GmbH", "Plain Co"]
    customers = [await known_customer(embedded, client, rep_a, name) for name in names]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for name, customer_id in zip(names, customers, strict=True):
        for path, body in (
            ("/api/tasks", {"title": f"Call {name}", "customerId": customer_id}),
            ("/api/meetings", {"title": f"Visit {name}", "customerId": customer_id, "startsAt": tomorrow}),
            ("/api/opportunities", {"name": f"Deal {name}", "customerId": customer_id, "amount": "10"}),
        ):
            response = await client.post(path, headers=bearer(rep_a), json=body)
            assert response.status_code == 201, response.text
    for number, name in enumerate(names):
        body = {
            "email": f"person-{number}@example.com",
            "password": "Password123!",
            "name": name,
            "role": "SALES",
        }
        assert (await client.post("/api/auth/users", headers=bearer(admin), json=body)).status_code == 201

    async def first_contact_tasks_made() -> bool:
        tasks = await client.get("/api/tasks", headers=bearer(rep_a), params={"limit": 500})
        return tasks.json()["total"] >= 2 * len(names)

    await eventually(first_contact_tasks_made, what="sales-activity's first-contact tasks")
    return {"A": rep_a, "B": rep_b, "MANAGER": manager, "ADMIN": admin}


async def list_parameters(client: httpx.AsyncClient) -> list[tuple[str, str, bool]]:
    """(path, query parameter, whether it takes free text) of every list endpoint, from /openapi.json."""
    document = (await client.get("/openapi.json")).json()
    found = []
    for path, operations in document["paths"].items():
        get = operations.get("get")
        if get is None or "{" in path:
            continue
        for parameter in get.get("parameters", []):
            if parameter["in"] != "query" or parameter["name"] in PAGING:
                continue
            schema = parameter["schema"]
            choices = schema.get("anyOf", [schema])
            closed = {"format", "$ref", "enum"}  # a date, an enum, an inline enum (`sort`): not free text
            text = any(c.get("type") == "string" and not closed & c.keys() for c in choices)
            typed = parameter["name"] in ("from", "to", "dueBefore", "date")  # ISO dates: checked, not text
            found.append((path, parameter["name"], text and not typed))
    return found


def caller_for(path: str, world: dict[str, Any]) -> str:
    """One who sees every row of ``path`` (users, audit and event metrics are the ADMIN's)."""
    return world["ADMIN"] if path.startswith(("/api/auth", "/api/metrics")) else world["MANAGER"]


async def test_every_filter_is_covered(crm: tuple[Embedded, httpx.AsyncClient]) -> None:
    parameters = {(path, name) for path, name, _ in await list_parameters(crm[1])}
    for expected in [("/api/customers", "q"), ("/api/tasks", "dueBefore"), ("/api/auth/audit", "actorId")]:
        assert expected in parameters
    assert len(parameters) >= 25


@pytest.mark.parametrize("payload", SQL + UNICODE)
async def test_sql_and_unicode_match_nothing_and_break_nothing(
    crm: tuple[Embedded, httpx.AsyncClient], world: dict[str, Any], payload: str
) -> None:
    _, client = crm
    for path, name, text in await list_parameters(client):
        response = await client.get(path, headers=bearer(caller_for(path, world)), params={name: payload})
        where = f"{path}?{name}={payload!r}"
        if text and response.status_code == 200:
            assert response.json()["total"] == 0, f"{where} matched rows: {response.text[:300]}"
        elif text:  # longer than the parameter's maximum (an id's 36 characters)
            assert response.status_code == 422 and len(payload) > 36, f"{where}: {response.text}"
            assert name in response.json()["fields"], f"{where}: {response.text}"
        else:  # an enum, a boolean, a date: refused, naming the parameter
            assert response.status_code == 422, f"{where}: {response.text}"
            assert name in response.json()["fields"], f"{where}: {response.text}"
    # Nothing was dropped or changed: the manager still sees rep A's five customers.
    names = await client.get("/api/customers", headers=bearer(world["MANAGER"]), params={"limit": 500})
    assert {"100% Organic", "Plain Co"} <= {c["name"] for c in names.json()["items"]}


@pytest.mark.parametrize("wildcard", ["%", "_", "%%", "_%_"])
async def test_like_wildcards_match_themselves(
    crm: tuple[Embedded, httpx.AsyncClient], world: dict[str, Any], wildcard: str
) -> None:
    _, client = crm
    for path, fields in SEARCHED.items():
        caller = caller_for(path, world)
        everything = await client.get(path, headers=bearer(caller), params={"limit": 500})
        found = await client.get(path, headers=bearer(caller), params={"q": wildcard, "limit": 500})
        assert found.status_code == 200, found.text
        expected = {
            item["id"]
            for item in everything.json()["items"]
            if any(wildcard in str(item.get(field) or "").lower() for field in fields)
        }
        assert {item["id"] for item in found.json()["items"]} == expected, f"{path}?q={wildcard}"
        assert found.json()["total"] < everything.json()["total"], f"{path}?q={wildcard} matched everything"
        if wildcard in ("%", "_"):
            assert expected, f"{path}: the seeded rows hold {wildcard!r}, so the search must find them"


async def test_a_rep_never_sees_another_reps_rows(
    crm: tuple[Embedded, httpx.AsyncClient], world: dict[str, Any]
) -> None:
    _, client = crm
    for path in ("/api/customers", "/api/tasks", "/api/meetings", "/api/opportunities"):
        for q in ["%", "_", "' OR 1=1 --", "' OR owner_id IS NOT NULL --", "Organic"]:
            response = await client.get(path, headers=bearer(world["B"]), params={"q": q})
            assert response.status_code == 200 and response.json()["total"] == 0, (
                f"{path}?q={q}: {response.text}"
            )
        organic = await client.get(path, headers=bearer(world["A"]), params={"q": "organic"})
        assert organic.json()["total"] >= 1, path


async def test_unicode_is_searched_as_text(
    crm: tuple[Embedded, httpx.AsyncClient], world: dict[str, Any]
) -> None:
    _, client = crm
    for q, name in (("müller", "Müller GmbH"), ("o'brien", "O'Brien & Sons"), ("& sons", "O'Brien & Sons")):
        found = await client.get("/api/customers", headers=bearer(world["MANAGER"]), params={"q": q})
        # rep A's customer, and the one made for the user of the same name (USER_CREATED)
        assert [c["name"] for c in found.json()["items"]] == [name, name], found.text


async def test_nul_characters_are_refused_naming_the_field(
    crm: tuple[Embedded, httpx.AsyncClient], world: dict[str, Any]
) -> None:
    _, client = crm
    for path, name, _ in await list_parameters(client):
        response = await client.get(path, headers=bearer(caller_for(path, world)), params={name: NUL})
        assert response.status_code == 422, f"{path}?{name}: {response.text}"
        assert name in response.json()["fields"], f"{path}?{name}: {response.text}"
    in_path = await client.get("/api/customers/a%00b", headers=bearer(world["MANAGER"]))
    assert in_path.status_code == 422 and "customer_id" in in_path.json()["fields"], in_path.text
    in_body = await client.post("/api/customers", headers=bearer(world["A"]), json={"name": NUL})
    assert in_body.status_code == 422 and in_body.json()["fields"] == {
        "name": "must not contain NUL characters"
    }
    nested = await client.patch(
        "/api/tasks/x", headers=bearer(world["A"]), content=b'{"title": "ok", "description": "a\\u0000"}'
    )
    assert nested.status_code == 422 and "description" in nested.json()["fields"], nested.text
    escaped = await client.post(
        "/api/customers", headers=bearer(world["A"]), json={"name": "back\\u0000slash"}
    )
    assert escaped.status_code == 201, "a literal backslash-u0000 is text, not a NUL"


async def test_very_long_strings_are_refused_naming_the_field(
    crm: tuple[Embedded, httpx.AsyncClient], world: dict[str, Any]
) -> None:
    _, client = crm
    for path, name, text in await list_parameters(client):
        if not text:
            continue
        response = await client.get(
            path, headers=bearer(caller_for(path, world)), params={name: "x" * 10_000}
        )
        assert response.status_code == 422, f"{path}?{name}: {response.text[:200]}"
        assert name in response.json()["fields"], f"{path}?{name}"
    longest = await client.get("/api/customers", headers=bearer(world["MANAGER"]), params={"q": "x" * 200})
    assert longest.status_code == 200 and longest.json()["total"] == 0
