"""`crm seed` against `crm dev` running as a process: it creates what it says, through the public API, and a
second run adds a second set instead of failing."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from crm.cli import app
from crm.cli.seed import PLANS, STAGES, Size
from crm.localinfra import DevServer
from crm.localinfra.ports import free_port
from tests.support.testbed import running

ADMIN = {"CRM_ADMIN_EMAIL": "admin@example.com", "CRM_ADMIN_PASSWORD": "Admin-Password-1"}


@pytest.fixture(scope="module")
def crm_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = DevServer(tmp_path_factory.mktemp("seed") / "crm", env=ADMIN)
    with running(server, "crm dev"):
        yield server.url
    assert "Traceback" not in server.log_file.read_text()


def seed(url: str, *args: str) -> tuple[str, str]:
    """Run `crm seed`; returns (run tag, output)."""
    result = CliRunner().invoke(app, ["seed", "--url", url, *args], env=ADMIN)
    assert result.exit_code == 0, result.output
    tag = re.search(r"run ([0-9a-f]{6})", result.output)
    assert tag, result.output
    return tag.group(1), result.output


class Crm:
    """The admin's view of what a run created, found through the API by the run's tag."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        token = self.http.post(
            "/api/auth/login",
            json={"email": ADMIN["CRM_ADMIN_EMAIL"], "password": ADMIN["CRM_ADMIN_PASSWORD"]},
        ).json()["token"]
        self.http.headers["Authorization"] = f"Bearer {token}"

    def items(self, path: str, **params: Any) -> list[dict[str, Any]]:
        response = self.http.get(path, params={"limit": 500, **params})
        assert response.status_code == 200, response.text
        return response.json()["items"]


def test_seed_small_creates_what_it_says_and_can_run_again(crm_dev: str) -> None:
    tag, output = seed(crm_dev, "--size", "small", "--password", "Seeded-Password-1")
    plan = PLANS[Size.small]
    crm = Crm(crm_dev)

    users = crm.items("/api/auth/users", q=tag)
    assert Counter(u["role"] for u in users) == Counter(plan.roles), "every role, as planned"
    found = crm.items("/api/customers", q=tag)
    customers = [c for c in found if c["email"].startswith("contact@")]
    assert len(customers) == plan.customers
    # customer-service made one more for each new user, from USER_CREATED
    assert sorted(c["email"] for c in found if c not in customers) == sorted(u["email"] for u in users)
    assert any(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", c["name"]) for c in customers), "Japanese names"
    assert any(c["name"].isascii() for c in customers), "English names"
    assert all(c["industry"] and c["size"] for c in customers)
    ids = {c["id"] for c in customers}
    deals = [d for d in crm.items("/api/opportunities") if d["customerId"] in ids]
    assert len(deals) == plan.deals and {d["stage"] for d in deals} == set(STAGES), "deals in every stage"
    meetings = [m for m in crm.items("/api/meetings") if m["customerId"] in ids]
    assert len(meetings) == plan.meetings
    tasks = [t for t in crm.items("/api/tasks") if t["customerId"] in ids and t["kind"] == "manual"]
    assert len(tasks) == plan.tasks
    assert {"TODO", "IN_PROGRESS", "COMPLETED", "CANCELLED"} <= {t["status"] for t in tasks}
    deal_ids = {d["id"] for d in deals}
    approvals = [a for a in crm.items("/api/approvals") if a["opportunityId"] in deal_ids]
    assert len(approvals) == plan.approvals
    assert {"APPROVED", "REJECTED", "PENDING"} <= {a["status"] for a in approvals}, "some decided"

    for kind, count in (("users", len(users)), ("customers", len(customers)), ("deals", len(deals))):
        assert re.search(rf"│ {kind}\s+│ {count}\s+│", output), f"the summary says {count} {kind}"
    sales = next(u for u in users if u["role"] == "SALES")
    assert sales["email"] in output and "Seeded-Password-1" in output
    signed_in = crm.http.post(
        "/api/auth/login", json={"email": sales["email"], "password": "Seeded-Password-1"}
    )
    assert signed_in.status_code == 200, "the demo users can sign in"

    again, _ = seed(crm_dev, "--size", "small")
    assert again != tag
    assert len(crm.items("/api/auth/users", q=again)) == len(users), "a second run adds a second set"
    assert len(crm.items("/api/auth/users", q=tag)) == len(users), "and leaves the first as it was"


def test_seed_names_what_is_wrong(crm_dev: str, tmp_path: Path) -> None:
    runner = CliRunner()
    wrong = runner.invoke(
        app, ["seed", "--url", crm_dev], env={**ADMIN, "CRM_ADMIN_PASSWORD": "not-the-password"}
    )
    assert wrong.exit_code == 2 and "CRM_ADMIN_PASSWORD" in wrong.output
    down = runner.invoke(app, ["seed", "--url", f"http://127.0.0.1:{free_port()}"], env=ADMIN)
    assert down.exit_code == 2 and "cannot reach the CRM" in down.output
