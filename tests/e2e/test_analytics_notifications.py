"""In-app notifications through the gateway: a user sees, counts and marks read their own, never another's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crm.contracts import EventType
from crm.contracts.payloads.notifications import ApprovalResult, TaskDueSoon
from crm.contracts.payloads.opportunities import ApprovalRequested
from tests.support.analytics import Analytics, Timeline, running_analytics

ALICE, BOB = "user-alice", "user-bob"


@pytest.fixture
async def analytics(tmp_path: Path) -> AsyncIterator[Analytics]:
    async with running_analytics(tmp_path) as running:
        t = Timeline()
        due = datetime.now(UTC) + timedelta(hours=3)
        t.add(
            EventType.TASK_DUE_SOON,
            TaskDueSoon(task_id="t1", assignee_id=ALICE, title="Call ACME", due_date=due),
            subject="t1",
        )
        t.add(
            EventType.APPROVAL_REQUESTED,
            ApprovalRequested(
                approval_id="a1",
                opportunity_id="o1",
                customer_id="c1",
                requester_id=ALICE,
                approver_role="MANAGER",
                title="Discount",
            ),
            subject="a1",
        )
        for approval, requester, status in (("a1", ALICE, "APPROVED"), ("a2", BOB, "REJECTED")):
            result = ApprovalResult(
                approval_id=approval, opportunity_id="o1", requester_id=requester, status=status
            )
            t.add(EventType.APPROVAL_RESULT, result, subject=approval)
        await running.publish(t.events)
        yield running


class Caller:
    def __init__(self, analytics: Analytics, user_id: str, role: str = "USER") -> None:
        self.client, self.headers = analytics.client, analytics.token(role, user_id)

    async def get(self, path: str, **params: object):  # type: ignore[no-untyped-def]
        return await self.client.get(f"/api/notifications{path}", headers=self.headers, params=params)

    async def post(self, path: str):  # type: ignore[no-untyped-def]
        return await self.client.post(f"/api/notifications{path}", headers=self.headers)

    async def titles(self, **params: object) -> list[str]:
        response = await self.get("", **params)
        assert response.status_code == 200, response.text
        return [n["title"] for n in response.json()["items"]]

    async def unread_count(self) -> int:
        return int((await self.get("/unread")).json()["count"])


async def test_a_user_sees_their_notifications_newest_first(analytics: Analytics) -> None:
    alice = Caller(analytics, ALICE)
    page = (await alice.get("")).json()
    assert [n["title"] for n in page["items"]] == [
        "Your approval request was APPROVED",
        "Task due soon: Call ACME",
    ]
    assert (page["total"], page["limit"], page["offset"]) == (2, 50, 0)
    first = page["items"][1]
    assert first["kind"] == "TASK_DUE_SOON" and (first["subjectType"], first["subjectId"]) == ("task", "t1")
    assert first["read"] is False and first["readAt"] is None
    assert await alice.titles(limit=1, offset=1) == ["Task due soon: Call ACME"]
    assert await Caller(analytics, BOB).titles() == ["Your approval request was REJECTED"]
    assert await Caller(analytics, "user-nobody").titles() == [], "an approval request notifies no one"


async def test_marking_one_read_moves_it_out_of_unread(analytics: Analytics) -> None:
    alice = Caller(analytics, ALICE)
    unread = (await alice.get("/unread")).json()
    assert unread["count"] == 2 and len(unread["items"]) == 2
    due_soon = next(n for n in unread["items"] if n["kind"] == "TASK_DUE_SOON")

    marked = await alice.post(f"/{due_soon['id']}/read")
    assert marked.status_code == 200
    assert marked.json()["id"] == due_soon["id"] and marked.json()["read"] is True and marked.json()["readAt"]
    assert await alice.unread_count() == 1
    assert await alice.titles(unread="true") == ["Your approval request was APPROVED"]
    assert len(await alice.titles()) == 2, "read ones stay in the list"

    again = await alice.post(f"/{due_soon['id']}/read")
    assert again.status_code == 200 and again.json()["readAt"] == marked.json()["readAt"], "idempotent"


async def test_another_users_notification_is_not_found(analytics: Analytics) -> None:
    alice, bob = Caller(analytics, ALICE), Caller(analytics, BOB)
    bobs = (await bob.get("")).json()["items"][0]
    response = await alice.post(f"/{bobs['id']}/read")
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert (await alice.post("/no-such-id/read")).status_code == 404
    admin = Caller(analytics, "user-admin", role="ADMIN")
    assert (await admin.post(f"/{bobs['id']}/read")).status_code == 404, "not even for an ADMIN"
    assert await bob.unread_count() == 1


async def test_read_all_marks_only_mine(analytics: Analytics) -> None:
    alice, bob = Caller(analytics, ALICE), Caller(analytics, BOB)
    assert (await alice.post("/read-all")).json() == {"updated": 2}
    assert (await alice.post("/read-all")).json() == {"updated": 0}
    assert (await alice.get("/unread")).json() == {"count": 0, "items": []}
    assert await bob.unread_count() == 1


async def test_each_event_notifies_once_however_often_it_arrives(analytics: Analytics) -> None:
    t = Timeline(start=datetime.now(UTC))
    due = datetime.now(UTC) + timedelta(hours=1)
    event = t.add(
        EventType.TASK_DUE_SOON,
        TaskDueSoon(task_id="t2", assignee_id=BOB, title="Send quote", due_date=due),
        subject="t2",
    )
    await analytics.publish([event, event, event])
    assert await Caller(analytics, BOB).titles() == [
        "Task due soon: Send quote",
        "Your approval request was REJECTED",
    ]


async def test_notifications_need_a_token(analytics: Analytics) -> None:
    client = analytics.client
    assert (await client.get("/api/notifications")).status_code == 401
    assert (await client.get("/api/notifications/unread")).status_code == 401
    assert (await client.post("/api/notifications/read-all")).status_code == 401
    assert (await client.post("/api/notifications/x/read")).status_code == 401
    bad = await Caller(analytics, ALICE).get("", limit=0)
    assert bad.status_code == 422 and "limit" in bad.json()["fields"]
