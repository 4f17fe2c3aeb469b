"""The approval workflow through the gateway: PENDING → APPROVED / REJECTED / RECALLED with its events on
``opportunity.events`` and ``notification.events``, who may do what, and the user- and customer-deletion
sagas (CANCELLED, exactly once per event)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from crm.contracts import EventType
from crm.contracts.payloads.customers import CustomerDeleted, CustomerRestored
from crm.contracts.payloads.users import UserDeleted
from crm.modes.embedded import Embedded
from tests.support.embedded import bearer, running_embedded, token_for
from tests.support.opportunity import (
    deliver_twice,
    events,
    known_customer,
    new_deal,
    published,
    quiesce,
    record,
)


@pytest.fixture
async def crm(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with running_embedded(tmp_path) as running:
        yield running
        await quiesce(running[0])


async def request(client: httpx.AsyncClient, token: str, deal_id: str, **fields: Any) -> httpx.Response:
    body = {"opportunityId": deal_id, "title": "Discount 20%", **fields}
    return await client.post("/api/approvals", headers=bearer(token), json=body)


async def pending_approval(
    crm: Embedded, client: httpx.AsyncClient, role: str = "SALES", **fields: Any
) -> tuple[str, str, dict[str, Any]]:
    """(requester id, requester token, a PENDING approval) on a new deal of a new customer."""
    user_id, token = token_for(crm, role)
    deal = await new_deal(client, token, await known_customer(crm, client, token))
    response = await request(client, token, deal["id"], **fields)
    assert response.status_code == 201, response.text
    return user_id, token, response.json()


async def test_approved_with_events_for_analytics_and_the_requester(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    user_id, user, approval = await pending_approval(crm, client, reason="Strategic account")
    manager_id, manager = token_for(crm, "MANAGER")
    assert (approval["status"], approval["approverRole"], approval["requesterId"]) == (
        "PENDING",
        "MANAGER",
        user_id,
    )
    assert approval["reason"] == "Strategic account" and approval["decidedBy"] is None
    requested = (await published(crm, "opportunity.events", "APPROVAL_REQUESTED", approval["id"]))[0]
    assert requested.data["opportunityId"] == approval["opportunityId"]
    assert requested.data["requesterId"] == requested.data["ownerId"] == user_id

    inbox = await client.get("/api/approvals/pending", headers=bearer(manager))
    assert inbox.status_code == 200 and [a["id"] for a in inbox.json()["items"]] == [approval["id"]]
    assert (await client.get("/api/approvals/pending", headers=bearer(user))).status_code == 403

    url = f"/api/approvals/{approval['id']}"
    approved = await client.post(f"{url}/approve", headers=bearer(manager), json={"comment": "Go"})
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["decidedBy"], approved.json()["comment"]) == (
        "APPROVED",
        manager_id,
        "Go",
    )
    assert approved.json()["decidedAt"]
    assert (await client.get(url, headers=bearer(user))).json() == approved.json()
    again = await client.post(f"{url}/approve", headers=bearer(manager))
    assert again.status_code == 409
    assert (await client.post(f"{url}/reject", headers=bearer(manager))).status_code == 409
    assert (await client.post(f"{url}/recall", headers=bearer(user))).status_code == 409
    assert (await client.get("/api/approvals/pending", headers=bearer(manager))).json()["total"] == 0

    changed = (await published(crm, "opportunity.events", "APPROVAL_STATUS_CHANGED", approval["id"]))[0]
    assert {k: changed.data[k] for k in ("status", "previousStatus", "decidedBy", "comment")} == {
        "status": "APPROVED",
        "previousStatus": "PENDING",
        "decidedBy": manager_id,
        "comment": "Go",
    }
    assert (changed.data["requesterId"], changed.data["ownerId"]) == (user_id, user_id)
    assert changed.data["customerId"] == approval["customerId"]
    result = (await published(crm, "notification.events", "APPROVAL_RESULT", approval["id"]))[0]
    assert (result.data["requesterId"], result.data["status"], result.data["decidedBy"]) == (
        user_id,
        "APPROVED",
        manager_id,
    )
    assert result.data["comment"] == "Go" and result.data["opportunityId"] == approval["opportunityId"]


async def test_rejected_by_the_role_it_is_addressed_to(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    user_id, _user, approval = await pending_approval(crm, client, approverRole="COMPLIANCE")
    compliance_id, compliance = token_for(crm, "COMPLIANCE")
    _, manager = token_for(crm, "MANAGER")
    _, admin = token_for(crm, "ADMIN")
    assert (await client.get("/api/approvals/pending", headers=bearer(manager))).json()["items"] == []
    for inbox_of in (compliance, admin):
        inbox = (await client.get("/api/approvals/pending", headers=bearer(inbox_of))).json()
        assert [a["id"] for a in inbox["items"]] == [approval["id"]]
    url = f"/api/approvals/{approval['id']}"
    assert (await client.post(f"{url}/approve", headers=bearer(manager))).status_code == 403

    rejected = await client.post(f"{url}/reject", headers=bearer(compliance))
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["comment"]) == ("REJECTED", None)
    changed = (await published(crm, "opportunity.events", "APPROVAL_STATUS_CHANGED", approval["id"]))[0]
    assert (changed.data["status"], changed.data["decidedBy"]) == ("REJECTED", compliance_id)
    result = (await published(crm, "notification.events", "APPROVAL_RESULT", approval["id"]))[0]
    assert (result.data["status"], result.data["requesterId"]) == ("REJECTED", user_id)


async def test_recalled_by_its_requester_only(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    user_id, user, approval = await pending_approval(crm, client)
    _, manager = token_for(crm, "MANAGER")
    _, stranger = token_for(crm, "USER")
    url = f"/api/approvals/{approval['id']}"
    assert (await client.post(f"{url}/recall", headers=bearer(manager))).status_code == 403
    assert (await client.post(f"{url}/recall", headers=bearer(stranger))).status_code == 404
    recalled = await client.post(f"{url}/recall", headers=bearer(user))
    assert recalled.status_code == 200 and recalled.json()["status"] == "RECALLED"
    assert (await client.post(f"{url}/recall", headers=bearer(user))).status_code == 409
    assert (await client.post(f"{url}/approve", headers=bearer(manager))).status_code == 409
    changed = (await published(crm, "opportunity.events", "APPROVAL_STATUS_CHANGED", approval["id"]))[0]
    assert (changed.data["status"], changed.data["previousStatus"], changed.data["decidedBy"]) == (
        "RECALLED",
        "PENDING",
        user_id,
    )
    assert await events(crm, "notification.events", "APPROVAL_RESULT") == [], "a recall notifies nobody"


async def test_who_may_decide(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    _, user, approval = await pending_approval(crm, client)
    _, sales = token_for(crm, "SALES")
    url = f"/api/approvals/{approval['id']}"
    assert (await client.post(f"{url}/approve", headers=bearer(user))).status_code == 403
    assert (await client.post(f"{url}/reject", headers=bearer(sales))).status_code == 403
    assert (await client.post(f"{url}/approve")).status_code == 401
    assert (
        await client.post("/api/approvals/nope/approve", headers=bearer(token_for(crm, "ADMIN")[1]))
    ).status_code == 404

    # A manager who asks for approval (of someone's deal) may not decide it, and does not see it to decide.
    _, manager_a, own = await pending_approval(crm, client, role="MANAGER")
    assert (
        await client.post(f"/api/approvals/{own['id']}/approve", headers=bearer(manager_a))
    ).status_code == 403
    inbox = (await client.get("/api/approvals/pending", headers=bearer(manager_a))).json()
    assert [a["id"] for a in inbox["items"]] == [approval["id"]]
    _, manager_b = token_for(crm, "MANAGER")
    ok = await client.post(f"/api/approvals/{own['id']}/approve", headers=bearer(manager_b))
    assert ok.status_code == 200


async def test_one_pending_approval_per_deal_and_no_delete_while_pending(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    _, user, approval = await pending_approval(crm, client)
    deal_id = approval["opportunityId"]
    second = await request(client, user, deal_id, title="Another")
    assert second.status_code == 409 and "opportunityId" in second.json()["fields"]
    deal_url = f"/api/opportunities/{deal_id}"
    assert (await client.delete(deal_url, headers=bearer(user))).status_code == 409
    await client.post(f"/api/approvals/{approval['id']}/recall", headers=bearer(user))
    third = await request(client, user, deal_id, approverRole="ADMIN")
    assert third.status_code == 201 and third.json()["approverRole"] == "ADMIN"
    await client.post(
        f"/api/approvals/{third.json()['id']}/reject", headers=bearer(token_for(crm, "ADMIN")[1])
    )
    assert (await client.delete(deal_url, headers=bearer(user))).status_code == 204
    assert (await request(client, user, deal_id)).status_code == 404


async def test_requests_and_their_visibility(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    _, alice, mine = await pending_approval(crm, client)
    bob_id, bob, theirs = await pending_approval(crm, client)
    _, compliance = token_for(crm, "COMPLIANCE")
    assert (await request(client, bob, mine["opportunityId"])).status_code == 404, "not bob's deal"
    assert (await request(client, alice, "nope")).status_code == 404
    bad = await request(client, alice, mine["opportunityId"], approverRole="USER", title="")
    assert bad.status_code == 422 and set(bad.json()["fields"]) == {"approverRole", "title"}
    assert (await client.post("/api/approvals", json={})).status_code == 401

    assert (await client.get(f"/api/approvals/{theirs['id']}", headers=bearer(alice))).status_code == 404
    assert (await client.get("/api/approvals/nope", headers=bearer(compliance))).status_code == 404
    listed = (await client.get("/api/approvals", headers=bearer(alice))).json()
    assert [a["id"] for a in listed["items"]] == [mine["id"]]
    everything = (await client.get("/api/approvals", headers=bearer(compliance))).json()
    assert {a["id"] for a in everything["items"]} == {mine["id"], theirs["id"]}

    await client.post(f"/api/approvals/{theirs['id']}/recall", headers=bearer(bob))

    async def ids(**params: str) -> list[str]:
        response = await client.get("/api/approvals", headers=bearer(compliance), params=params)
        assert response.status_code == 200, response.text
        return [a["id"] for a in response.json()["items"]]

    assert await ids(status="RECALLED") == [theirs["id"]]
    assert await ids(status="PENDING") == [mine["id"]]
    assert await ids(opportunityId=theirs["opportunityId"]) == [theirs["id"]]
    assert await ids(customerId=theirs["customerId"]) == [theirs["id"]]
    assert await ids(customerId=mine["customerId"], status="RECALLED") == []
    # The same visibility: alice asking for bob's customer sees none of bob's requests.
    by_customer = await client.get(
        "/api/approvals", headers=bearer(alice), params={"customerId": theirs["customerId"]}
    )
    assert by_customer.status_code == 200 and by_customer.json()["total"] == 0
    assert (await client.get("/api/approvals?status=MAYBE", headers=bearer(compliance))).status_code == 422
    assert bob_id


async def test_deleting_a_user_cancels_their_pending_requests(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    user_id, user, first = await pending_approval(crm, client)
    customer_id = first["customerId"]
    second = await request(client, user, (await new_deal(client, user, customer_id))["id"])
    decided = await request(client, user, (await new_deal(client, user, customer_id))["id"])
    await client.post(
        f"/api/approvals/{decided.json()['id']}/approve", headers=bearer(token_for(crm, "ADMIN")[1])
    )
    _, _other, untouched = await pending_approval(crm, client)

    deleted = UserDeleted(user_id=user_id, email="gone@example.com", deleted_by="admin-1")
    await deliver_twice(crm, record(EventType.USER_DELETED, deleted, user_id, "auth-service"))

    _, admin = token_for(crm, "ADMIN")
    for approval_id in (first["id"], second.json()["id"]):
        got = (await client.get(f"/api/approvals/{approval_id}", headers=bearer(admin))).json()
        assert (got["status"], got["decidedBy"]) == ("CANCELLED", "admin-1")
        changed = await published(crm, "opportunity.events", "APPROVAL_STATUS_CHANGED", approval_id)
        assert (changed[0].data["status"], changed[0].data["previousStatus"]) == ("CANCELLED", "PENDING")
    assert (await client.get(f"/api/approvals/{decided.json()['id']}", headers=bearer(admin))).json()[
        "status"
    ] == ("APPROVED")
    assert (await client.get(f"/api/approvals/{untouched['id']}", headers=bearer(admin))).json()[
        "status"
    ] == "PENDING"


async def test_deleting_a_customer_cancels_its_deals_pending_approvals(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    user_id, user, first = await pending_approval(crm, client)
    customer_id = first["customerId"]
    manager_id, manager = token_for(crm, "MANAGER")
    other_deal = await new_deal(client, user, customer_id)
    by_manager = await request(client, manager, other_deal["id"], approverRole="ADMIN")
    assert by_manager.status_code == 201, "roles that see all may request on any deal"
    _, _other, elsewhere = await pending_approval(crm, client)

    deleted = CustomerDeleted(customer_id=customer_id, owner_id=user_id, deleted_by=manager_id)
    await deliver_twice(crm, record(EventType.CUSTOMER_DELETED, deleted, customer_id, "customer-service"))

    for approval_id in (first["id"], by_manager.json()["id"]):
        got = (await client.get(f"/api/approvals/{approval_id}", headers=bearer(manager))).json()
        assert got["status"] == "CANCELLED" and got["comment"] == "The customer was deleted"
        changed = await published(crm, "opportunity.events", "APPROVAL_STATUS_CHANGED", approval_id)
        assert (changed[0].data["status"], changed[0].data["decidedBy"]) == ("CANCELLED", manager_id)
    assert (await client.get(f"/api/approvals/{elsewhere['id']}", headers=bearer(manager))).json()[
        "status"
    ] == ("PENDING")
    refused = await request(client, user, other_deal["id"])
    assert refused.status_code == 409, "no new approvals on a deleted customer's deal"

    restored = CustomerRestored(customer_id=customer_id, restored_by=manager_id)
    await deliver_twice(crm, record(EventType.CUSTOMER_RESTORED, restored, customer_id, "customer-service"))
    got = (await client.get(f"/api/approvals/{first['id']}", headers=bearer(manager))).json()
    assert got["status"] == "CANCELLED", "a restore reopens nothing"
    assert (await request(client, user, other_deal["id"])).status_code == 201
