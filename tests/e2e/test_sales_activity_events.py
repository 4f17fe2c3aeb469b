"""sales-activity's reactions to the rest of the CRM, in the embedded mode: the guide's first-contact task,
follow-ups of decided approvals, the user- and customer-deletion sagas and the due-soon check. Each reaction
happens once, even when its event is delivered twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crm.contracts import EventType, make_event
from crm.contracts.base import Payload
from crm.contracts.payloads.customers import CustomerCreated, CustomerDeleted, CustomerRestored
from crm.contracts.payloads.opportunities import ApprovalStatusChanged
from crm.contracts.payloads.users import UserDeleted
from crm.platform.bus import OutgoingRecord
from crm.platform.events import Envelope
from crm.services.sales_activity.jobs import check_due_soon
from tests.support.embedded import bearer, register, running_embedded, token_for
from tests.support.waiting import eventually


@pytest.fixture
async def crm(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with running_embedded(tmp_path) as running:
        yield running


def record(event_type: EventType, payload: Payload, subject: str, source: str) -> OutgoingRecord:
    event = make_event(event_type, payload, subject=subject, source=source)
    return OutgoingRecord(event.topic, event.subject.encode(), event.to_json(), event.headers())


async def deliver(crm, *records: OutgoingRecord) -> None:  # type: ignore[no-untyped-def]
    """Publish ``records`` on the bus and wait until sales-activity has applied or skipped each one and
    published what it emitted."""
    runtime = crm.runtimes["sales_activity"]
    consumer = runtime.consumer
    target = consumer.applied + consumer.duplicates + len(records)
    for r in records:
        await crm.bus.publish([r])

    async def settled() -> bool:
        backlog, _ = await runtime.outbox.backlog(runtime.db)
        return consumer.applied + consumer.duplicates >= target and backlog == 0

    await eventually(settled, what="sales-activity to process the deliveries")


async def emitted(crm, event_type: str, **match: str) -> list[dict]:  # type: ignore[no-untyped-def]
    """The payloads of ``event_type`` published so far that match ``match``."""
    spec_topic = "notification.events" if event_type == "TASK_DUE_SOON" else "sales-activity.events"
    envelopes = [Envelope.from_record(r.topic, r.value, r.headers) for r in await crm.bus.records(spec_topic)]
    return [
        e.data
        for e in envelopes
        if e.type == event_type and all(e.data.get(k) == v for k, v in match.items())
    ]


async def known_customer(crm, owner_id: str, name: str = "Acme") -> str:  # type: ignore[no-untyped-def]
    """A customer sales-activity has heard of (CUSTOMER_CREATED published as customer-service would)."""
    customer_id = str(uuid.uuid4())
    payload = CustomerCreated(customer_id=customer_id, name=name, owner_id=owner_id, created_by=owner_id)
    await deliver(crm, record(EventType.CUSTOMER_CREATED, payload, customer_id, "customer-service"))
    return customer_id


async def tasks(client, token: str, **params: str) -> list[dict]:  # type: ignore[no-untyped-def]
    response = await client.get("/api/tasks", headers=bearer(token), params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def in_hours(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def test_guide_test_2_a_new_customer_gets_a_first_contact_task_for_its_owner(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    user = await register(client, "owner@example.com", name="Owner")
    guide_body = {"name": "Test Company", "industry": "Technology", "size": "MEDIUM", "email": "c@t.example"}
    created = await client.post("/api/customers", headers=bearer(user["token"]), json=guide_body)
    assert created.status_code == 201
    customer_id = created.json()["id"]

    async def first_contact() -> list[dict]:
        return await tasks(client, user["token"], customerId=customer_id)

    [task] = await eventually(first_contact, timeout=2.0, what="the first-contact task")
    assert (task["title"], task["kind"], task["priority"], task["status"]) == (
        "Initial contact: Test Company",
        "first_contact",
        "HIGH",
        "TODO",
    )
    assert task["assigneeId"] == user["user"]["id"]
    due_in = datetime.fromisoformat(task["dueDate"]) - datetime.now(UTC)
    assert timedelta(days=1, hours=23) < due_in <= timedelta(days=2)
    announced = await eventually(lambda: emitted(crm, "TASK_CREATED", taskId=task["id"]))
    assert announced[0]["kind"] == "first_contact" and announced[0]["customerId"] == customer_id


async def test_customer_created_delivered_twice_gives_one_first_contact_task(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    owner_id, owner = token_for(crm, "SALES")
    customer_id = str(uuid.uuid4())
    payload = CustomerCreated(customer_id=customer_id, name="Twice Ltd", owner_id=owner_id)
    once = record(EventType.CUSTOMER_CREATED, payload, customer_id, "customer-service")
    republished = record(EventType.CUSTOMER_CREATED, payload, customer_id, "customer-service")  # new id
    await deliver(crm, once, once, republished)
    assert [t["title"] for t in await tasks(client, owner)] == ["Initial contact: Twice Ltd"]
    assert len(await emitted(crm, "TASK_CREATED", customerId=customer_id)) == 1
    assert crm.runtimes["sales_activity"].consumer.duplicates >= 1, "the inbox skipped the redelivery"


async def test_a_decided_approval_gives_the_requester_one_follow_up_task(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    requester_id, requester = token_for(crm, "SALES")
    customer_id = await known_customer(crm, requester_id)

    def decision(approval_id: str, status: str, title: str | None = None) -> OutgoingRecord:
        payload = ApprovalStatusChanged(
            title=title,
            approval_id=approval_id,
            opportunity_id="deal-7",
            customer_id=customer_id,
            requester_id=requester_id,
            status=status,
            previous_status="PENDING",
            decided_by="boss",
            comment="Go ahead",
        )
        return record(EventType.APPROVAL_STATUS_CHANGED, payload, "deal-7", "opportunity-service")

    approved = decision("appr-1", "APPROVED")
    await deliver(crm, approved, approved, decision("appr-2", "RECALLED"))
    [task] = await tasks(client, requester, opportunityId="deal-7")
    assert task["title"] == "Follow up: approval approved: opportunity deal-7"
    assert (task["kind"], task["assigneeId"], task["customerId"]) == ("follow_up", requester_id, customer_id)
    assert "Go ahead" in task["description"]
    due_in = datetime.fromisoformat(task["dueDate"]) - datetime.now(UTC)
    assert timedelta(hours=23) < due_in <= timedelta(days=1)
    await deliver(crm, decision("appr-3", "REJECTED", title="20% discount"))
    titles = [t["title"] for t in await tasks(client, requester, opportunityId="deal-7")]
    assert sorted(titles) == [
        "Follow up: approval approved: opportunity deal-7",
        "Follow up: approval rejected: 20% discount",
    ]
    assert len(await emitted(crm, "TASK_CREATED", kind="follow_up")) == 2


async def test_deleting_a_user_cancels_their_open_tasks_and_future_meetings(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    leaver_id, leaver = token_for(crm, "SALES")
    _, stayer = token_for(crm, "SALES")
    customer_id = await known_customer(crm, leaver_id)

    async def post(path: str, token: str, **body: object) -> str:
        response = await client.post(path, headers=bearer(token), json=body)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    todo = await post("/api/tasks", leaver, title="Open")
    doing = await post("/api/tasks", leaver, title="Doing", status="IN_PROGRESS")
    done = await post("/api/tasks", leaver, title="Done")
    await client.post(f"/api/tasks/{done}/complete", headers=bearer(leaver))
    others = await post("/api/tasks", stayer, title="Not mine")
    future = await post("/api/meetings", leaver, customerId=customer_id, title="Next", startsAt=in_hours(30))
    past = await post("/api/meetings", leaver, customerId=customer_id, title="Last", startsAt=in_hours(-30))

    payload = UserDeleted(user_id=leaver_id, email="leaver@example.com", deleted_by="admin")
    deleted = record(EventType.USER_DELETED, payload, leaver_id, "auth-service")
    await deliver(crm, deleted, deleted)

    _, admin = token_for(crm, "ADMIN")
    status = {t["id"]: t["status"] for t in await tasks(client, admin, limit="500")}
    assert [status[t] for t in (todo, doing, done, others)] == ["CANCELLED", "CANCELLED", "COMPLETED", "TODO"]
    for meeting, expected in ((future, "CANCELLED"), (past, "SCHEDULED")):
        response = await client.get(f"/api/meetings/{meeting}", headers=bearer(admin))
        assert response.json()["status"] == expected
    cancellations = await emitted(crm, "TASK_UPDATED", status="CANCELLED")
    # (the admin looks: the leaver's own token is refused everywhere once USER_DELETED is known)
    first_contact = (await tasks(client, admin, customerId=customer_id))[0]["id"]
    assert sorted(c["taskId"] for c in cancellations) == sorted([todo, doing, first_contact]), "once each"
    assert [m["meetingId"] for m in await emitted(crm, "MEETING_UPDATED", status="CANCELLED")] == [future]


async def test_deleting_a_customer_cancels_its_work_until_restored(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    owner_id, owner = token_for(crm, "SALES")
    customer_id = await known_customer(crm, owner_id, "Gone Inc")
    other_customer = await known_customer(crm, owner_id, "Stays Inc")
    body = {"customerId": customer_id, "title": "Review", "startsAt": in_hours(48)}
    meeting = (await client.post("/api/meetings", headers=bearer(owner), json=body)).json()
    task = (
        await client.post("/api/tasks", headers=bearer(owner), json={"title": "T", "customerId": customer_id})
    ).json()

    payload = CustomerDeleted(customer_id=customer_id, owner_id=owner_id, deleted_by=owner_id)
    deleted = record(EventType.CUSTOMER_DELETED, payload, customer_id, "customer-service")
    await deliver(crm, deleted, deleted)

    assert {t["status"] for t in await tasks(client, owner, customerId=customer_id)} == {"CANCELLED"}
    assert {t["status"] for t in await tasks(client, owner, customerId=other_customer)} == {"TODO"}
    fetched = await client.get(f"/api/meetings/{meeting['id']}", headers=bearer(owner))
    assert fetched.json()["status"] == "CANCELLED"
    assert len(await emitted(crm, "TASK_UPDATED", taskId=task["id"])) == 1
    assert len(await emitted(crm, "TASK_UPDATED", customerId=customer_id)) == 2, "with the first contact"
    assert len(await emitted(crm, "MEETING_UPDATED", meetingId=meeting["id"])) == 1
    refused = await client.post("/api/meetings", headers=bearer(owner), json=body)
    assert refused.status_code == 422 and "customerId" in refused.json()["fields"]

    restored = CustomerRestored(customer_id=customer_id, owner_id=owner_id, restored_by=owner_id)
    await deliver(crm, record(EventType.CUSTOMER_RESTORED, restored, customer_id, "customer-service"))
    assert (await client.post("/api/meetings", headers=bearer(owner), json=body)).status_code == 201
    assert {t["status"] for t in await tasks(client, owner, customerId=customer_id)} == {"CANCELLED"}


async def test_due_soon_is_announced_once_per_task_and_again_after_a_new_due_date(crm) -> None:  # type: ignore[no-untyped-def]
    crm, client = crm
    rep_id, rep = token_for(crm, "SALES")

    async def add(title: str, due_in_hours: float) -> str:
        body = {"title": title, "dueDate": in_hours(due_in_hours)}
        return (await client.post("/api/tasks", headers=bearer(rep), json=body)).json()["id"]

    soon = await add("Due soon", 2)
    await add("Next week", 24 * 7)
    await add("Already late", -1)
    done = await add("Done already", 3)
    await client.post(f"/api/tasks/{done}/complete", headers=bearer(rep))

    uow = crm.runtimes["sales_activity"].uow
    await check_due_soon(uow)
    await check_due_soon(uow)  # the second run (or another instance) finds nothing new

    async def notices() -> list[dict]:
        return await emitted(crm, "TASK_DUE_SOON", assigneeId=rep_id)

    await eventually(notices, what="the due-soon notice")
    assert [(n["taskId"], n["title"]) for n in await notices()] == [(soon, "Due soon")]

    moved = await client.patch(f"/api/tasks/{soon}", headers=bearer(rep), json={"dueDate": in_hours(5)})
    assert moved.status_code == 200
    assert await check_due_soon(uow) == 1, "a new due date is announced again"
    assert await check_due_soon(uow, now=datetime.now(UTC) + timedelta(hours=1)) == 0
