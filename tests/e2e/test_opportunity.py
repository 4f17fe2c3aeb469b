"""Deals through the gateway of the embedded CRM: CRUD, exact amounts, validation, visibility, owners and
final stages. Helpers: tests/support/opportunity.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.embedded import bearer, running_embedded, token_for
from tests.support.opportunity import known_customer, new_deal, published, quiesce


@pytest.fixture
async def crm(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with running_embedded(tmp_path) as running:
        yield running
        await quiesce(running[0])


# Deals.


async def test_create_read_list_update_delete(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    user_id, token = token_for(crm, "SALES")
    customer_id = await known_customer(crm, client, token)
    deal = await new_deal(client, token, customer_id, expectedCloseDate="2030-03-31")
    assert deal["amount"] == "1500000.00", "amounts are JSON strings with two decimals"
    assert (deal["currency"], deal["stage"], deal["probability"]) == ("JPY", "LEAD", 10)
    assert (deal["ownerId"], deal["createdBy"], deal["customerId"]) == (user_id, user_id, customer_id)
    assert (deal["activityCount"], deal["lastActivityAt"], deal["expectedCloseDate"]) == (
        0,
        None,
        "2030-03-31",
    )

    fetched = await client.get(f"/api/opportunities/{deal['id']}", headers=bearer(token))
    assert fetched.status_code == 200 and fetched.json() == deal
    listed = await client.get("/api/opportunities", headers=bearer(token))
    assert listed.json()["total"] == 1 and listed.json()["items"] == [deal]

    patched = await client.patch(
        f"/api/opportunities/{deal['id']}",
        headers=bearer(token),
        json={"name": "Bigger deal", "amount": 2000000, "currency": "USD", "probability": 40},
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["amount"]) == ("Bigger deal", "2000000.00")
    assert (patched.json()["currency"], patched.json()["probability"]) == ("USD", 40)
    cleared = await client.patch(
        f"/api/opportunities/{deal['id']}", headers=bearer(token), json={"expectedCloseDate": None}
    )
    assert cleared.json()["expectedCloseDate"] is None

    created = (await published(crm, "opportunity.events", "OPPORTUNITY_CREATED", deal["id"]))[0]
    assert created.data["amount"] == "1500000.00" and created.data["customerId"] == customer_id
    assert (created.data["ownerId"], created.data["stage"], created.data["currency"]) == (
        user_id,
        "LEAD",
        "JPY",
    )

    deleted = await client.delete(f"/api/opportunities/{deal['id']}", headers=bearer(token))
    assert deleted.status_code == 204
    assert (await client.get(f"/api/opportunities/{deal['id']}", headers=bearer(token))).status_code == 404
    assert (await client.get("/api/opportunities", headers=bearer(token))).json()["total"] == 0
    again = await client.delete(f"/api/opportunities/{deal['id']}", headers=bearer(token))
    assert again.status_code == 404


async def test_amounts_keep_every_digit(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    _, token = token_for(crm, "USER")
    customer_id = await known_customer(crm, client, token)
    largest = await new_deal(client, token, customer_id, amount="9999999999999999.99")
    got = await client.get(f"/api/opportunities/{largest['id']}", headers=bearer(token))
    assert largest["amount"] == got.json()["amount"] == "9999999999999999.99"
    from_number = await new_deal(client, token, customer_id, amount=1234.5)
    assert from_number["amount"] == "1234.50"
    event = (await published(crm, "opportunity.events", "OPPORTUNITY_CREATED", largest["id"]))[0]
    assert event.data["amount"] == "9999999999999999.99"


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"currency": "yen"}, "currency"),
        ({"currency": "JPYEN"}, "currency"),
        ({"stage": "CLOSED"}, "stage"),
        ({"probability": 101}, "probability"),
        ({"name": "   "}, "name"),
        ({"expectedCloseDate": "someday"}, "expectedCloseDate"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_fields_are_named(crm, fields: dict[str, Any], bad: str) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    _, token = token_for(crm, "USER")
    body = {"customerId": "c-1", "name": "Deal", "amount": "10", **fields}
    response = await client.post("/api/opportunities", headers=bearer(token), json=body)
    assert response.status_code == 422 and bad in response.json()["fields"], response.text


async def test_a_valid_token_is_required(crm) -> None:  # type: ignore[no-untyped-def]
    _crm, client = crm
    assert (await client.get("/api/opportunities")).status_code == 401
    assert (await client.post("/api/opportunities", json={})).status_code == 401
    assert (await client.get("/api/opportunities/x", headers=bearer("garbage"))).status_code == 401


async def test_compliance_reviews_but_does_not_sell(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    _, sales = token_for(crm, "SALES")
    _, compliance = token_for(crm, "COMPLIANCE")
    customer_id = await known_customer(crm, client, sales)
    deal = await new_deal(client, sales, customer_id)
    body = {"customerId": customer_id, "name": "D", "amount": "1"}
    assert (await client.post("/api/opportunities", headers=bearer(compliance), json=body)).status_code == 403
    url = f"/api/opportunities/{deal['id']}"
    assert (await client.patch(url, headers=bearer(compliance), json={"name": "X"})).status_code == 403
    assert (await client.delete(url, headers=bearer(compliance))).status_code == 403
    assert (await client.get(url, headers=bearer(compliance))).status_code == 200, "but sees every deal"


async def test_owners_see_their_deals_and_managers_all(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    alice_id, alice = token_for(crm, "USER")
    bob_id, bob = token_for(crm, "SALES")
    _, manager = token_for(crm, "MANAGER")
    customer_id = await known_customer(crm, client, alice)
    other_customer = await known_customer(crm, client, bob, name="Other Co")
    mine = await new_deal(client, alice, customer_id, name="Alpha renewal")
    theirs = await new_deal(client, bob, other_customer, name="Beta expansion", stage="PROPOSAL")

    url = f"/api/opportunities/{mine['id']}"
    assert (await client.get(url, headers=bearer(bob))).status_code == 404
    assert (await client.patch(url, headers=bearer(bob), json={"name": "Mine now"})).status_code == 404
    assert (await client.delete(url, headers=bearer(bob))).status_code == 404
    assert [
        d["id"] for d in (await client.get("/api/opportunities", headers=bearer(bob))).json()["items"]
    ] == [theirs["id"]]

    async def ids(**params: str) -> set[str]:
        response = await client.get("/api/opportunities", headers=bearer(manager), params=params)
        assert response.status_code == 200, response.text
        return {d["id"] for d in response.json()["items"]}

    assert await ids() == {mine["id"], theirs["id"]}
    assert await ids(customerId=customer_id) == {mine["id"]}
    assert await ids(ownerId=bob_id) == {theirs["id"]}
    assert await ids(stage="PROPOSAL") == {theirs["id"]}
    assert await ids(q="ALPHA") == {mine["id"]}
    assert await ids(q="%") == set(), "q is a plain substring, not a pattern"
    page = (await client.get("/api/opportunities", headers=bearer(manager), params={"limit": 1})).json()
    assert (page["total"], len(page["items"]), page["limit"]) == (2, 1, 1)
    assert (await client.get("/api/opportunities?stage=DONE", headers=bearer(manager))).status_code == 422

    handed = await client.patch(url, headers=bearer(manager), json={"ownerId": bob_id})
    assert handed.status_code == 200 and handed.json()["ownerId"] == bob_id
    assert (await client.get(url, headers=bearer(alice))).status_code == 404
    assert (await client.get(url, headers=bearer(bob))).status_code == 200
    assert alice_id != bob_id


async def test_only_managers_choose_another_owner(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    _, user = token_for(crm, "USER")
    _, admin = token_for(crm, "ADMIN")
    customer_id = await known_customer(crm, client, user)
    body = {"customerId": customer_id, "name": "D", "amount": "1", "ownerId": "someone-else"}
    refused = await client.post("/api/opportunities", headers=bearer(user), json=body)
    assert refused.status_code == 403 and "ownerId" in refused.json()["fields"]
    assigned = await client.post("/api/opportunities", headers=bearer(admin), json=body)
    assert assigned.status_code == 201 and assigned.json()["ownerId"] == "someone-else"
    mine = await new_deal(client, user, customer_id)
    reassign = await client.patch(
        f"/api/opportunities/{mine['id']}", headers=bearer(user), json={"ownerId": "someone-else"}
    )
    assert reassign.status_code == 403


async def test_stage_changes_are_published_and_won_is_final(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    user_id, token = token_for(crm, "SALES")
    customer_id = await known_customer(crm, client, token)
    deal = await new_deal(client, token, customer_id, amount="500.25", currency="EUR")
    url = f"/api/opportunities/{deal['id']}"
    qualified = await client.patch(url, headers=bearer(token), json={"stage": "QUALIFIED"})
    assert (qualified.json()["stage"], qualified.json()["probability"]) == ("QUALIFIED", 25)
    same = await client.patch(url, headers=bearer(token), json={"stage": "QUALIFIED", "probability": 30})
    assert same.json()["probability"] == 30
    won = await client.patch(url, headers=bearer(token), json={"stage": "WON"})
    assert (won.json()["stage"], won.json()["probability"]) == ("WON", 100) and won.json()["closedAt"]
    back = await client.patch(url, headers=bearer(token), json={"stage": "NEGOTIATION"})
    assert back.status_code == 409 and "stage" in back.json()["fields"]
    renamed = await client.patch(url, headers=bearer(token), json={"name": "Won deal"})
    assert renamed.status_code == 200 and renamed.json()["stage"] == "WON"
    assert (await client.patch(url, headers=bearer(token), json={"name": None})).status_code == 422

    changes = await published(crm, "opportunity.events", "OPPORTUNITY_STAGE_CHANGED", deal["id"], count=2)
    assert [(e.data["fromStage"], e.data["toStage"]) for e in changes] == [
        ("LEAD", "QUALIFIED"),
        ("QUALIFIED", "WON"),
    ]
    assert changes[1].data["amount"] == "500.25" and changes[1].data["currency"] == "EUR"
    assert changes[1].data["ownerId"] == user_id and changes[1].data["customerId"] == customer_id

    lost = await new_deal(client, token, customer_id, stage="LOST")
    assert lost["probability"] == 0 and lost["closedAt"]
    reopen = await client.patch(
        f"/api/opportunities/{lost['id']}", headers=bearer(token), json={"stage": "LEAD"}
    )
    assert reopen.status_code == 409
