"""The guide's acceptance tests 1 and 2 through the gateway of the embedded CRM, and the API's errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.embedded import bearer, register, running_embedded
from tests.support.flows import every_flow
from tests.support.waiting import eventually


@pytest.fixture
async def crm(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with running_embedded(tmp_path) as running:
        yield running


async def test_guide_test_1_register_creates_the_users_customer(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    body = await register(client, "guide1@example.com", name="Guide User")
    assert body["user"]["email"] == "guide1@example.com" and body["user"]["role"] == "USER"
    assert body["token"]

    async def customers() -> list:
        response = await client.get("/api/customers", headers=bearer(body["token"]))
        assert response.status_code == 200
        return response.json()["items"]

    items = await eventually(customers, timeout=1.0, what="the user's customer within a second")
    assert [(c["name"], c["email"], c["ownerId"]) for c in items] == [
        ("Guide User", "guide1@example.com", body["user"]["id"])
    ]


async def test_guide_test_2_create_customer(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    token = (await register(client, "guide2@example.com"))["token"]
    response = await client.post(
        "/api/customers",
        headers=bearer(token),
        json={
            "name": "Test Company",
            "industry": "Technology",
            "size": "MEDIUM",
            "email": "contact@testcompany.com",
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["id"] and created["name"] == "Test Company" and created["size"] == "MEDIUM"
    fetched = await client.get(f"/api/customers/{created['id']}", headers=bearer(token))
    assert fetched.status_code == 200 and fetched.json() == created
    found = await client.get("/api/customers", params={"q": "testcompany"}, headers=bearer(token))
    assert [c["id"] for c in found.json()["items"]] == [created["id"]]


async def test_login_and_me(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    await register(client, "me@example.com", name="Me")
    login = await client.post("/api/auth/login", json={"email": "ME@example.com", "password": "Password123!"})
    assert login.status_code == 200
    me = await client.get("/api/auth/me", headers=bearer(login.json()["token"]))
    assert me.json()["email"] == "me@example.com" and me.json()["name"] == "Me"


async def test_wrong_password_and_unknown_account_get_the_same_answer(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    await register(client, "known@example.com")
    wrong = await client.post("/api/auth/login", json={"email": "known@example.com", "password": "nope-nope"})
    unknown = await client.post(
        "/api/auth/login", json={"email": "ghost@example.com", "password": "nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["message"] == unknown.json()["message"]


async def test_self_registration_cannot_grant_admin(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    response = await client.post(
        "/api/auth/register",
        json={"email": "sneaky@example.com", "password": "Password123!", "name": "S", "role": "ADMIN"},
    )
    assert response.status_code == 403
    assert "role" in response.json()["fields"]


async def test_bad_input_names_each_field(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    response = await client.post(
        "/api/auth/register", json={"email": "nope", "password": "short", "name": ""}
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"email", "password", "name"}
    token = (await register(client, "fields@example.com"))["token"]
    response = await client.post("/api/customers", headers=bearer(token), json={"name": "X", "size": "HUGE"})
    assert response.status_code == 422 and "size" in response.json()["fields"]


async def test_password_may_not_be_the_email(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    response = await client.post(
        "/api/auth/register",
        json={"email": "same@example.com", "password": "same@example.com", "name": "S"},
    )
    assert response.status_code == 422 and "password" in response.json()["fields"]


async def test_duplicate_email_is_a_conflict(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    await register(client, "twice@example.com")
    again = await client.post(
        "/api/auth/register", json={"email": "Twice@Example.com", "password": "Password123!", "name": "T"}
    )
    assert again.status_code == 409 and again.json()["fields"] == {"email": "already registered"}


async def test_customers_need_a_valid_token(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    assert (await client.get("/api/customers")).status_code == 401
    assert (await client.get("/api/customers", headers=bearer("garbage"))).status_code == 401


async def test_a_user_sees_only_their_own_customers(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    alice = (await register(client, "alice@example.com", name="Alice"))["token"]
    bob = (await register(client, "bob@example.com", name="Bob"))["token"]
    created = await client.post("/api/customers", headers=bearer(alice), json={"name": "Alice Co"})
    assert (
        await client.get(f"/api/customers/{created.json()['id']}", headers=bearer(bob))
    ).status_code == 404
    names = [c["name"] for c in (await client.get("/api/customers", headers=bearer(bob))).json()["items"]]
    assert "Alice Co" not in names


async def test_unknown_routes_are_404_json(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    response = await client.get("/api/nowhere")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


async def test_health_aggregates_every_service(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    body = (await client.get("/health")).json()
    assert body["status"] == "ok"
    assert set(body["services"]) == {"auth", "customer", "sales_activity", "opportunity", "analytics"}


async def test_one_openapi_document_covers_every_service(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    for path in ("/api/auth/register", "/api/auth/users", "/api/customers", "/api/customers/{customer_id}"):
        assert path in document["paths"], path
    refs = {r for r in str(document).split("'") if r.startswith("#/components/schemas/")}
    assert refs, "operations reference schemas"
    for ref in refs:
        assert ref.rsplit("/", 1)[1] in document["components"]["schemas"], f"dangling {ref}"
    assert (await client.get("/docs")).headers["content-type"].startswith("text/html")


async def test_every_flow_of_the_guides_table_and_the_sagas(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    await every_flow(client)
