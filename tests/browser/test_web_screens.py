"""The meetings, reports and administration screens in a real browser against `crm dev`: an administrator
schedules and cancels a meeting, reads the reports, manages accounts and API keys, and is told why the last
ADMIN cannot give up the role."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import Page, expect

from tests.support.browser import open_nav, screenshot, sign_in, unique_email
from tests.support.embedded import ADMIN_EMAIL, ADMIN_PASSWORD, bearer, login
from tests.support.waiting import eventually


async def test_a_meeting_is_scheduled_shown_in_the_week_and_cancelled(page: Page, crm_dev: str) -> None:
    company = f"Meeting Co {uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(base_url=crm_dev, timeout=10) as api:
        token = (await login(api))["token"]
        created = await api.post("/api/customers", headers=bearer(token), json={"name": company})
        assert created.status_code == 201, created.text
    await sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    await open_nav(page, "Meetings")
    await page.get_by_role("button", name="New meeting").click()
    dialog = page.get_by_role("dialog", name="New meeting")
    await dialog.get_by_role("combobox", name=re.compile(r"^Customer")).fill(company)
    await page.get_by_role("option", name=company).click()
    await dialog.get_by_label(re.compile(r"^Title")).fill("Kick-off with the buyer")
    await dialog.get_by_label(re.compile(r"^Starts")).fill(f"{datetime.now():%Y-%m-%d}T23:30")
    await dialog.get_by_role("button", name="Save").click()

    row = page.get_by_test_id("meeting-row").filter(has_text="Kick-off with the buyer")
    await expect(row).to_contain_text(company)  # the customer's name, looked up from its id
    await expect(row).to_contain_text("Scheduled")
    await screenshot(page, "20-meetings-upcoming")

    await page.get_by_text("Week", exact=True).click()
    meeting = page.get_by_role("button", name=re.compile(r"Kick-off with the buyer \(Scheduled\)"))
    await expect(meeting).to_be_visible()
    await screenshot(page, "21-meetings-week")

    await page.get_by_text("Upcoming", exact=True).click()
    page.once("dialog", lambda confirm: confirm.accept())
    await row.get_by_role("button", name="Cancel Kick-off with the buyer").click()
    await expect(row).to_contain_text("Cancelled")


async def test_the_reports_show_the_four_reports_with_charts(page: Page) -> None:
    await sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    await open_nav(page, "Reports")
    for title in ["Sales summary", "Task completion", "Customer statistics", "Approval statistics"]:
        await expect(page.get_by_role("region", name=title)).to_be_visible()
    await expect(page.get_by_test_id("customers-total")).to_have_text(re.compile(r"^\d[\d,]*$"))
    await expect(page.get_by_test_id("completion-rate")).to_be_visible()
    await expect(page.get_by_test_id("chart-loading")).to_have_count(0)  # the lazy charts are drawn
    await screenshot(page, "22-reports")
    await page.get_by_text("日本語").click()
    await expect(page.get_by_role("region", name="売上サマリー")).to_be_visible()
    await screenshot(page, "23-reports-ja")


async def test_the_reports_period_reaches_every_report(page: Page, crm_dev: str) -> None:
    today = datetime.now(UTC).date()
    around_today = f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"  # UTC days
    async with httpx.AsyncClient(base_url=crm_dev, timeout=10) as api:
        token = (await login(api))["token"]
        before = await api.get(f"/api/reports/customers?{around_today}", headers=bearer(token))
        created = await api.post("/api/customers", headers=bearer(token), json={"name": "Period Co"})
        assert created.status_code == 201, created.text

        async def counted() -> bool:  # the analytics read model follows CUSTOMER_CREATED
            now = await api.get(f"/api/reports/customers?{around_today}", headers=bearer(token))
            return bool(now.json()["total"] > before.json()["total"])

        await eventually(counted, timeout=20, interval=0.2, what="the new customer in the report")
        recent = (await api.get(f"/api/reports/customers?{around_today}", headers=bearer(token))).json()

    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    await sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    await page.goto("/reports?from=2000-01-01&to=2000-01-31")
    await expect(page.get_by_test_id("customers-created")).to_have_text("0")  # nobody was created then
    await expect(page.get_by_test_id("completion-rate")).to_be_visible()
    for report in ["sales-summary", "customers", "approvals", "tasks"]:
        assert f"/api/reports/{report}?from=2000-01-01&to=2000-01-31" in " ".join(asked), report

    await page.goto(f"/reports?{around_today}")
    created_now = str(recent["total"] + recent["deleted"])
    await expect(page.get_by_test_id("customers-created")).to_have_text(created_now)
    await screenshot(page, "22b-reports-period")


async def test_an_admin_manages_accounts_and_keys_and_cannot_drop_the_last_admin(
    page: Page, crm_dev: str
) -> None:
    async with httpx.AsyncClient(base_url=crm_dev, timeout=10) as api:
        token = (await login(api))["token"]
        admins = await api.get("/api/auth/users", params={"role": "ADMIN"}, headers=bearer(token))
        assert admins.json()["total"] == 1, "the demotion below must be refused: one ADMIN only here"
    await sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    await open_nav(page, "Administration")
    users = page.get_by_role("table", name="Users")
    await expect(users).to_be_visible()

    email = unique_email("browser-admin-made")
    await page.get_by_role("button", name="New user").click()
    dialog = page.get_by_role("dialog", name="New user")
    await dialog.get_by_label(re.compile(r"^Name")).fill("Made By Admin")
    await dialog.get_by_label(re.compile(r"^Email")).fill(email)
    await dialog.get_by_role("textbox", name=re.compile(r"^Password")).fill("Password123!")
    await dialog.get_by_role("button", name="Save").click()
    await page.get_by_label("Search users").fill(email)
    await expect(page.get_by_test_id("user-row").filter(has_text=email)).to_contain_text("Sales")

    await page.get_by_label("Search users").fill(ADMIN_EMAIL)
    admin_row = page.get_by_test_id("user-row").filter(has_text=ADMIN_EMAIL)
    await admin_row.get_by_role("button", name=re.compile("^Edit")).click()
    dialog = page.get_by_role("dialog", name="Edit user")
    await dialog.get_by_role("combobox", name="Role").click()
    await page.get_by_role("option", name="Sales").click()
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("last administrator")  # the server's 409
    await screenshot(page, "24-admin-last-admin")
    await dialog.get_by_role("button", name="Cancel").click()

    await page.get_by_role("tab", name="API keys").click()
    await page.get_by_label(re.compile(r"^Key name")).fill("Browser ERP")
    await page.get_by_role("button", name="Create key").click()
    await expect(page.get_by_test_id("new-api-key")).not_to_be_empty()
    await expect(page.get_by_role("button", name="Copy")).to_be_visible()
    await screenshot(page, "25-admin-api-key")
    page.once("dialog", lambda confirm: confirm.accept())
    await page.get_by_role("button", name="Revoke Browser ERP").first.click()
    key_row = page.get_by_test_id("api-key-row").filter(has_text="Browser ERP").first
    await expect(key_row).to_contain_text("Revoked")

    await page.get_by_role("tab", name="Audit log").click()
    await page.get_by_role("combobox", name="Action").fill("User created")
    await page.get_by_role("option", name="User created").click()
    await expect(page.get_by_test_id("audit-row").first).to_contain_text("User created")
    await screenshot(page, "26-admin-audit")
