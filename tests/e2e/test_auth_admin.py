"""Accounts administration, logout and the audit log, through the gateway of the embedded CRM."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.embedded import ADMIN_EMAIL, bearer, login, register, running_embedded, token_for
from tests.support.waiting import eventually


@pytest.fixture
async def crm(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with running_embedded(tmp_path) as running:
        yield running


async def test_the_first_administrator_is_created_from_the_environment(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    admin = await login(client)
    assert admin["user"]["email"] == ADMIN_EMAIL and admin["user"]["role"] == "ADMIN"


async def test_an_admin_creates_staff_of_any_role_and_changes_roles(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    admin = bearer((await login(client))["token"])
    created = await client.post(
        "/api/auth/users",
        headers=admin,
        json={
            "email": "mgr@example.com",
            "password": "Manager-Pass-1",
            "name": "Mia Manager",
            "role": "MANAGER",
        },
    )
    assert created.status_code == 201, created.text
    manager = created.json()
    assert manager["role"] == "MANAGER"
    assert (await login(client, "mgr@example.com", "Manager-Pass-1"))["user"]["role"] == "MANAGER"

    sales = (await register(client, "rep@example.com", name="Rep", role="SALES"))["user"]
    patched = await client.patch(
        f"/api/auth/users/{sales['id']}", headers=admin, json={"role": "MANAGER", "managerId": manager["id"]}
    )
    assert patched.status_code == 200 and patched.json()["role"] == "MANAGER"
    assert patched.json()["managerId"] == manager["id"]
    listing = await client.get("/api/auth/users", headers=admin, params={"role": "MANAGER"})
    assert {u["email"] for u in listing.json()["items"]} == {"mgr@example.com", "rep@example.com"}


async def test_only_admins_manage_accounts(crm) -> None:  # type: ignore[no-untyped-def]
    live, client = crm
    for role in ("USER", "SALES", "MANAGER", "COMPLIANCE"):
        _, token = token_for(live, role)
        assert (await client.get("/api/auth/users", headers=bearer(token))).status_code == 403, role
        response = await client.post(
            "/api/auth/users",
            headers=bearer(token),
            json={"email": "x@example.com", "password": "Password123!", "name": "X", "role": "ADMIN"},
        )
        assert response.status_code == 403, role
    assert (await client.get("/api/auth/users")).status_code == 401


async def test_the_last_admin_cannot_be_demoted_or_delete_themselves(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    admin_body = await login(client)
    admin, admin_id = bearer(admin_body["token"]), admin_body["user"]["id"]
    demote = await client.patch(f"/api/auth/users/{admin_id}", headers=admin, json={"role": "USER"})
    assert demote.status_code == 409 and "role" in demote.json()["fields"]
    assert (await client.delete(f"/api/auth/users/{admin_id}", headers=admin)).status_code == 409


async def test_deleting_a_user_hands_their_customers_to_their_manager(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    admin = bearer((await login(client))["token"])
    manager = (
        await client.post(
            "/api/auth/users",
            headers=admin,
            json={
                "email": "boss@example.com",
                "password": "Boss-Pass-123",
                "name": "Boss",
                "role": "MANAGER",
            },
        )
    ).json()
    rep = await register(client, "leaver@example.com", name="Leaver", role="SALES")
    await client.patch(
        f"/api/auth/users/{rep['user']['id']}", headers=admin, json={"managerId": manager["id"]}
    )
    own = await client.post("/api/customers", headers=bearer(rep["token"]), json={"name": "Leaver's Client"})
    assert own.status_code == 201

    assert (await client.delete(f"/api/auth/users/{rep['user']['id']}", headers=admin)).status_code == 204

    async def reassigned() -> bool:
        body = (await client.get(f"/api/customers/{own.json()['id']}", headers=admin)).json()
        return body["ownerId"] == manager["id"]

    await eventually(reassigned, what="the customer handed to the manager")
    gone = await client.post(
        "/api/auth/login", json={"email": "leaver@example.com", "password": "Password123!"}
    )
    assert gone.status_code == 401
    assert (await client.get("/api/auth/me", headers=bearer(rep["token"]))).status_code == 401
    again = await register(client, "leaver@example.com", name="Back Again")
    assert again["user"]["id"] != rep["user"]["id"], "the address is free again"


async def test_logout_revokes_the_token(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    token = (await register(client, "bye@example.com"))["token"]
    assert (await client.post("/api/auth/logout", headers=bearer(token))).status_code == 204
    assert (await client.get("/api/auth/me", headers=bearer(token))).status_code == 401


async def test_the_audit_log_records_logins_failures_and_role_changes(crm) -> None:  # type: ignore[no-untyped-def]
    live, client = crm
    admin_body = await login(client)
    admin = bearer(admin_body["token"])
    user = (await register(client, "audited@example.com"))["user"]
    await client.post("/api/auth/login", json={"email": "audited@example.com", "password": "wrong-password"})
    await client.patch(f"/api/auth/users/{user['id']}", headers=admin, json={"role": "SALES"})
    log = (await client.get("/api/auth/audit", headers=admin, params={"limit": 100})).json()
    actions = [e["action"] for e in log["items"]]
    for expected in ("REGISTERED", "LOGIN_SUCCEEDED", "LOGIN_FAILED", "ROLE_CHANGED", "USER_UPDATED"):
        assert expected in actions, expected
    failed = next(e for e in log["items"] if e["action"] == "LOGIN_FAILED")
    assert failed["actorEmail"] == "audited@example.com" and failed["targetId"] == user["id"]
    role_change = next(e for e in log["items"] if e["action"] == "ROLE_CHANGED")
    assert role_change["detail"] == {"from": "USER", "to": "SALES"}
    _, compliance = token_for(live, "COMPLIANCE")
    assert (await client.get("/api/auth/audit", headers=bearer(compliance))).status_code == 200
    _, manager = token_for(live, "MANAGER")
    assert (await client.get("/api/auth/audit", headers=bearer(manager))).status_code == 403
    assert "Admin-Password-1" not in str(log) and "$argon2" not in str(log)


async def test_the_default_first_administrator_can_sign_in(tmp_path: Path) -> None:
    async with running_embedded(tmp_path, CRM_ADMIN_EMAIL="admin@crm.local") as (_crm, client):
        body = await login(client, "admin@crm.local")
        assert body["user"]["role"] == "ADMIN"
