"""Every flow of the guide's table and the deletion sagas, through the gateway: one scenario that runs
against the embedded CRM and against the six processes on Kafka + PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.waiting import eventually

ADMIN = {"email": "admin@example.com", "password": "Admin-Password-1"}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.text}"
    )
    return response.json() if response.content else None


async def every_flow(api: httpx.AsyncClient) -> None:
    """Every row of the MISSION's flow table and both deletion sagas, as users of the API see them."""

    async def until(probe: Any, what: str) -> Any:
        return await eventually(probe, timeout=30, interval=0.1, what=what)

    admin = (await ok(await api.post("/api/auth/login", json=ADMIN)))["token"]
    manager = await ok(
        await api.post(
            "/api/auth/users",
            headers=auth(admin),
            json={
                "email": "boss@example.com",
                "password": "Boss-Pass-123",
                "name": "Boss",
                "role": "MANAGER",
            },
        ),
        201,
    )
    boss = (
        await ok(
            await api.post("/api/auth/login", json={"email": "boss@example.com", "password": "Boss-Pass-123"})
        )
    )["token"]

    # USER_CREATED → customer-service creates the user's customer; analytics counts the user
    rep = await ok(
        await api.post(
            "/api/auth/register",
            json={"email": "rep@example.com", "password": "Password123!", "name": "Rep", "role": "SALES"},
        ),
        201,
    )
    rep_id, rep_token = rep["user"]["id"], rep["token"]
    await ok(
        await api.patch(f"/api/auth/users/{rep_id}", headers=auth(admin), json={"managerId": manager["id"]})
    )

    async def own_customers() -> list:
        return (await ok(await api.get("/api/customers", headers=auth(rep_token))))["items"]

    await until(own_customers, "the rep's own customer record")

    async def users_counted() -> bool:
        report = await ok(await api.get("/api/reports/users", headers=auth(boss)))
        return report["byRole"].get("SALES", 0) >= 1

    await until(users_counted, "analytics counting the new SALES user")

    # CUSTOMER_CREATED → the first-contact task for the owner; analytics customer counts
    customer = await ok(
        await api.post(
            "/api/customers",
            headers=auth(rep_token),
            json={
                "name": "Flow Co",
                "industry": "Technology",
                "size": "MEDIUM",
                "email": "flow@example.com",
            },
        ),
        201,
    )

    async def first_contact() -> list:
        tasks = await ok(
            await api.get("/api/tasks", headers=auth(rep_token), params={"customerId": customer["id"]})
        )
        return [t for t in tasks["items"] if t["kind"] == "first_contact"]

    (task,) = await until(first_contact, "the first-contact task")
    assert task["assigneeId"] == rep_id

    async def customers_counted() -> bool:
        report = await ok(await api.get("/api/reports/customers", headers=auth(boss)))
        return report["byIndustry"].get("Technology", 0) >= 1

    await until(customers_counted, "analytics counting Technology customers")

    # a deal (once opportunity-service has seen the customer), then TASK_CREATED → its activity
    async def create_deal() -> Any:
        response = await api.post(
            "/api/opportunities",
            headers=auth(rep_token),
            json={
                "customerId": customer["id"],
                "name": "Flow deal",
                "amount": "1200000",
                "currency": "JPY",
            },
        )
        return response.json() if response.status_code == 201 else None

    deal = await until(create_deal, "opportunity-service knowing the customer")
    await ok(
        await api.post(
            "/api/tasks",
            headers=auth(rep_token),
            json={
                "title": "Send the proposal",
                "customerId": customer["id"],
                "opportunityId": deal["id"],
            },
        ),
        201,
    )

    async def activity_tracked() -> bool:
        body = await ok(await api.get(f"/api/opportunities/{deal['id']}", headers=auth(rep_token)))
        return body["activityCount"] >= 1

    await until(activity_tracked, "the deal's activity from TASK_CREATED")

    # APPROVAL_STATUS_CHANGED → the requester's follow-up task; APPROVAL_RESULT → their notification
    approval = await ok(
        await api.post(
            "/api/approvals",
            headers=auth(rep_token),
            json={"opportunityId": deal["id"], "title": "Discount"},
        ),
        201,
    )
    pending = await ok(await api.get("/api/approvals/pending", headers=auth(boss)))
    assert approval["id"] in [a["id"] for a in pending["items"]]
    await ok(
        await api.post(f"/api/approvals/{approval['id']}/approve", headers=auth(boss), json={"comment": "OK"})
    )

    async def follow_up() -> list:
        tasks = await ok(
            await api.get("/api/tasks", headers=auth(rep_token), params={"opportunityId": deal["id"]})
        )
        return [t for t in tasks["items"] if t["kind"] == "follow_up"]

    await until(follow_up, "the follow-up task for the requester")

    async def notified() -> list:
        return (await ok(await api.get("/api/notifications", headers=auth(rep_token))))["items"]

    (notification,) = await until(notified, "the requester's notification")
    assert "APPROVED" in str(notification)

    async def approvals_counted() -> bool:
        report = await ok(await api.get("/api/reports/approvals", headers=auth(boss)))
        return report["byStatus"].get("APPROVED", 0) >= 1

    await until(approvals_counted, "analytics counting the approval")

    # CUSTOMER_DELETED → its open tasks cancelled
    await ok(await api.delete(f"/api/customers/{customer['id']}", headers=auth(rep_token)), 204)

    async def tasks_cancelled() -> bool:
        tasks = await ok(
            await api.get("/api/tasks", headers=auth(rep_token), params={"customerId": customer["id"]})
        )
        return bool(tasks["items"]) and all(t["status"] == "CANCELLED" for t in tasks["items"])

    await until(tasks_cancelled, "the deleted customer's tasks cancelled")

    # USER_DELETED → the rep's customers go to their manager
    await ok(await api.delete(f"/api/auth/users/{rep_id}", headers=auth(admin)), 204)

    async def reassigned() -> bool:
        listing = await ok(
            await api.get("/api/customers", headers=auth(boss), params={"ownerId": manager["id"]})
        )
        return any(c["email"] == "rep@example.com" for c in listing["items"])

    await until(reassigned, "the rep's customer handed to the manager")
