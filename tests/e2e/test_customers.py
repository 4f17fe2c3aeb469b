"""Customers: update, soft delete and restore, filters, and who may do what."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.embedded import bearer, register, running_embedded, token_for


@pytest.fixture
async def crm(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with running_embedded(tmp_path) as running:
        yield running


async def new_customer(client, token: str, **fields: object) -> dict:  # type: ignore[no-untyped-def]
    response = await client.post("/api/customers", headers=bearer(token), json={"name": "Acme", **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def test_update_changes_only_the_given_fields(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    token = (await register(client, "owner@example.com"))["token"]
    customer = await new_customer(client, token, industry="Retail", phone="+81 3-1234-5678")
    patched = await client.patch(
        f"/api/customers/{customer['id']}", headers=bearer(token), json={"size": "LARGE"}
    )
    assert patched.status_code == 200
    body = patched.json()
    assert (body["size"], body["industry"], body["phone"]) == ("LARGE", "Retail", "+81 3-1234-5678")
    cleared = await client.patch(
        f"/api/customers/{customer['id']}", headers=bearer(token), json={"phone": None}
    )
    assert cleared.json()["phone"] is None
    replaced = await client.put(
        f"/api/customers/{customer['id']}", headers=bearer(token), json={"name": "Acme KK"}
    )
    assert (
        replaced.status_code == 200
        and replaced.json()["industry"] is None
        and replaced.json()["name"] == "Acme KK"
    )


async def test_delete_hides_and_restore_brings_back(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    token = (await register(client, "deleter@example.com"))["token"]
    customer = await new_customer(client, token)
    url = f"/api/customers/{customer['id']}"
    assert (await client.delete(url, headers=bearer(token))).status_code == 204
    assert (await client.get(url, headers=bearer(token))).status_code == 404
    assert customer["id"] not in [
        c["id"] for c in (await client.get("/api/customers", headers=bearer(token))).json()["items"]
    ]
    bin_ = await client.get("/api/customers", headers=bearer(token), params={"deleted": "true"})
    assert [c["id"] for c in bin_.json()["items"]] == [customer["id"]]
    restored = await client.post(f"{url}/restore", headers=bearer(token))
    assert restored.status_code == 200 and restored.json()["deletedAt"] is None
    assert (await client.post(f"{url}/restore", headers=bearer(token))).status_code == 409
    assert (await client.get(url, headers=bearer(token))).status_code == 200


async def test_search_and_filters(crm) -> None:  # type: ignore[no-untyped-def]
    live, client = crm
    _, manager = token_for(live, "MANAGER")
    await new_customer(
        client, manager, name="Sakura Foods", industry="Food", size="SMALL", phone="03-1111-2222"
    )
    await new_customer(
        client,
        manager,
        name="Fuji Steel",
        industry="Manufacturing",
        size="ENTERPRISE",
        email="info@fujisteel.example",
    )
    names = lambda r: sorted(c["name"] for c in r.json()["items"])  # noqa: E731
    assert names(await client.get("/api/customers", headers=bearer(manager), params={"q": "fujisteel"})) == [
        "Fuji Steel"
    ]
    assert names(await client.get("/api/customers", headers=bearer(manager), params={"q": "1111"})) == [
        "Sakura Foods"
    ]
    assert names(await client.get("/api/customers", headers=bearer(manager), params={"size": "SMALL"})) == [
        "Sakura Foods"
    ]
    assert names(
        await client.get("/api/customers", headers=bearer(manager), params={"industry": "Manufacturing"})
    ) == ["Fuji Steel"]
    injection = await client.get("/api/customers", headers=bearer(manager), params={"q": "' OR 1=1 --"})
    assert injection.status_code == 200 and injection.json()["total"] == 0
    page = await client.get("/api/customers", headers=bearer(manager), params={"limit": 1, "offset": 1})
    assert page.json()["total"] >= 2 and len(page.json()["items"]) == 1
    assert (
        await client.get("/api/customers", headers=bearer(manager), params={"limit": 0})
    ).status_code == 422


async def test_roles(crm) -> None:  # type: ignore[no-untyped-def]
    live, client = crm
    rep_id, rep = token_for(live, "SALES")
    other_id, other = token_for(live, "SALES")
    _, manager = token_for(live, "MANAGER")
    _, compliance = token_for(live, "COMPLIANCE")
    customer = await new_customer(client, rep)
    url = f"/api/customers/{customer['id']}"
    # another rep neither sees nor changes it
    assert (await client.patch(url, headers=bearer(other), json={"name": "Mine"})).status_code == 404
    assert (await client.delete(url, headers=bearer(other))).status_code == 404
    # a rep cannot give it away; a manager can
    give = await client.patch(url, headers=bearer(rep), json={"ownerId": other_id})
    assert give.status_code == 403 and "ownerId" in give.json()["fields"]
    moved = await client.patch(url, headers=bearer(manager), json={"ownerId": other_id})
    assert moved.status_code == 200 and moved.json()["ownerId"] == other_id
    # compliance reads all and writes nothing
    assert (await client.get(url, headers=bearer(compliance))).status_code == 200
    assert (await client.patch(url, headers=bearer(compliance), json={"name": "X"})).status_code == 403
    assert (
        await client.post("/api/customers", headers=bearer(compliance), json={"name": "X"})
    ).status_code == 403
    assert rep_id != other_id
