"""The web app in a real browser against `crm dev`: what a sales team does every morning, and the live
updates that come from the events."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.support import embedded
from tests.support.browser import PASSWORD, open_nav, register, screenshot, sign_in, unique_email
from tests.support.embedded import bearer, login
from tests.support.waiting import eventually


async def test_register_then_the_user_sees_their_own_customer(page: Page) -> None:
    await page.goto("/")
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()  # signed out: to sign-in
    await screenshot(page, "01-sign-in")
    await page.goto("/register")
    await expect(page.get_by_role("button", name="Register")).to_be_visible()
    await screenshot(page, "02-register")

    email = unique_email("browser-user")
    await register(page, "Browser User", email)
    await expect(page.get_by_test_id("signed-in-user")).to_have_text("Browser User")

    await open_nav(page, "Customers")
    # USER_CREATED → customer-service creates the user's own customer record: it appears in the list.
    row = page.get_by_test_id("customer-row").filter(has_text=email)
    await expect(row).to_be_visible()
    await expect(row).to_contain_text("Browser User")
    await expect(row).to_contain_text("mine")
    await screenshot(page, "04-customers")


async def test_a_new_customers_first_contact_task_appears_on_its_page_without_a_reload(page: Page) -> None:
    await register(page, "Sales Person", unique_email("browser-sales"), role="SALES")
    await open_nav(page, "Customers")
    await page.get_by_role("button", name="New customer").click()
    dialog = page.get_by_role("dialog", name="New customer")
    await dialog.get_by_label(re.compile(r"^Name")).fill("Test Company")
    await dialog.get_by_label("Email").fill("contact@testcompany.com")
    await dialog.get_by_label("Industry").fill("Technology")
    await dialog.get_by_role("button", name="Save").click()

    await expect(page.get_by_role("heading", name="Test Company")).to_be_visible()
    url_after_create = page.url
    # CUSTOMER_CREATED → sales-activity creates the first-contact task → TASK_CREATED on the live stream.
    task = page.get_by_test_id("customer-task").filter(has_text="Initial contact: Test Company")
    await expect(task).to_be_visible(timeout=20_000)
    assert page.url == url_after_create  # no navigation, no reload
    await screenshot(page, "05-customer-detail")

    await page.get_by_role("tab", name=re.compile("Timeline")).click()
    await expect(page.get_by_text("Customer created")).to_be_visible()
    await screenshot(page, "06-customer-timeline")

    await open_nav(page, "Dashboard")
    await expect(page.get_by_text("Pipeline value by stage")).to_be_visible()
    await expect(page.get_by_role("link", name=re.compile(r"^Customers \d+$"))).to_be_visible()  # a key count
    await screenshot(page, "03-dashboard")

    await open_nav(page, "Notifications")
    await expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    await screenshot(page, "07-notifications")


async def test_a_422_is_shown_beside_its_field_and_the_typed_values_stay(page: Page) -> None:
    await register(page, "Careless Typist", unique_email("browser-422"), role="SALES")
    await open_nav(page, "Customers")
    await page.get_by_role("button", name="New customer").click()
    dialog = page.get_by_role("dialog", name="New customer")
    await dialog.get_by_label(re.compile(r"^Name")).fill("Typo Company")
    await dialog.get_by_label("Email").fill("not-an-email")
    await dialog.get_by_role("button", name="Save").click()

    email = dialog.get_by_label("Email")
    await expect(email).to_have_attribute("aria-invalid", "true")
    error_id = await email.get_attribute("aria-describedby")
    assert error_id, "the field names its error"
    error = page.locator(f"[id='{error_id.split()[-1]}']")
    await expect(error).to_contain_text(re.compile("email", re.IGNORECASE))
    await expect(email).to_have_value("not-an-email")
    await expect(dialog.get_by_label(re.compile(r"^Name"))).to_have_value("Typo Company")
    await screenshot(page, "08-customer-422")


async def test_a_user_cannot_reach_administration(page: Page) -> None:
    await register(page, "Plain User", unique_email("browser-plain"))
    nav = page.get_by_role("navigation", name="Main navigation")
    await expect(nav.get_by_role("link", name="Customers")).to_be_visible()
    await expect(nav.get_by_role("link", name="Administration")).to_have_count(0)
    await page.goto("/admin")
    await expect(page.get_by_role("alert")).to_contain_text("Not allowed")
    await expect(page.get_by_role("table", name="Users")).to_have_count(0)


async def test_the_language_switch_shows_japanese_with_japanese_dates(context: BrowserContext) -> None:
    page = await context.new_page()
    await register(page, "日本 太郎", unique_email("browser-ja"))
    await page.get_by_text("日本語").click()
    await expect(page.get_by_role("heading", name="ダッシュボード")).to_be_visible()
    await page.get_by_role("navigation", name="メインナビゲーション").get_by_role("link", name="顧客").click()
    row = page.get_by_test_id("customer-row").first
    await expect(row).to_contain_text(re.compile(r"\d{4}/\d{1,2}/\d{1,2}"))  # ja-JP: 2026/12/01
    await screenshot(page, "09-customers-ja")


async def test_a_deal_approved_by_a_manager_in_another_browser_updates_the_requesters_bell_and_tasks(
    browser: Browser, crm_dev: str
) -> None:
    requester_email, manager_email = unique_email("browser-rep"), unique_email("browser-mgr")
    async with httpx.AsyncClient(base_url=crm_dev, timeout=10) as api:
        rep = await embedded.register(api, requester_email, name="Rep Requester", role="SALES")
        admin = await login(api)
        created = await api.post(
            "/api/auth/users",
            headers=bearer(admin["token"]),
            json={"email": manager_email, "password": PASSWORD, "name": "Mia Manager", "role": "MANAGER"},
        )
        assert created.status_code == 201, created.text
        customer = await api.post(
            "/api/customers", headers=bearer(rep["token"]), json={"name": "Approval Corp", "size": "LARGE"}
        )
        assert customer.status_code == 201, customer.text

        async def deal_created() -> bool:  # opportunity-service learns the customer from CUSTOMER_CREATED
            answer = await api.post(
                "/api/opportunities",
                headers=bearer(rep["token"]),
                json={
                    "customerId": customer.json()["id"],
                    "name": "Big Discount Deal",
                    "amount": "1200000.00",
                },
            )
            return answer.status_code == 201

        await eventually(deal_created, timeout=20, interval=0.2, what="the deal")

    requester_context = await browser.new_context(base_url=crm_dev, viewport={"width": 1400, "height": 900})
    manager_context = await browser.new_context(base_url=crm_dev, viewport={"width": 1400, "height": 900})
    try:
        rep_page = await requester_context.new_page()
        await sign_in(rep_page, requester_email)
        await open_nav(rep_page, "Deals")
        await rep_page.get_by_role("button", name="Request approval for Big Discount Deal").click()
        dialog = rep_page.get_by_role("dialog", name="Request approval")
        await dialog.get_by_label("Reason").fill("A 20% discount for a three-year contract")
        await dialog.get_by_role("button", name="Request approval").click()
        await expect(dialog).to_be_hidden()
        await expect(rep_page.get_by_test_id("deal-column-LEAD")).to_contain_text("Big Discount Deal")
        await expect(rep_page.get_by_test_id("column-total").first).to_contain_text("1,200,000")
        await screenshot(rep_page, "10-deals")

        await open_nav(rep_page, "Tasks")
        await expect(rep_page.get_by_role("heading", name="Tasks")).to_be_visible()
        bell = rep_page.get_by_test_id("notification-bell")
        unread_before = int(await bell.get_attribute("data-count") or 0)

        mgr_page = await manager_context.new_page()
        await sign_in(mgr_page, manager_email)
        await open_nav(mgr_page, "Approvals")
        row = mgr_page.get_by_test_id("pending-approval").filter(has_text="Approval for Big Discount Deal")
        await expect(row).to_be_visible()
        await screenshot(mgr_page, "11-approvals-inbox")
        await row.get_by_role("button", name=re.compile("^Approve")).click()
        decision = mgr_page.get_by_role("dialog", name="Approve the request")
        await decision.get_by_label("Comment").fill("Fine for three years")
        await decision.get_by_role("button", name="Approve").click()
        await expect(decision).to_be_hidden()
        await expect(row).to_have_count(0)

        # The requester's open page, no reload: APPROVAL_RESULT rings the bell, the follow-up task appears.
        await expect(bell).not_to_have_attribute("data-count", str(unread_before), timeout=20_000)
        follow_up = rep_page.get_by_test_id("task-row").filter(has_text="Big Discount Deal")
        await expect(follow_up).to_be_visible(timeout=20_000)
        await screenshot(rep_page, "12-tasks-after-approval")
        await bell.click()
        popover = rep_page.get_by_role("dialog")
        await expect(popover).to_contain_text(re.compile("approved", re.IGNORECASE))
        await expect(popover).to_have_css("opacity", "1")  # its opening transition is over
        await screenshot(rep_page, "13-bell")
        await bell.click()  # closes it
        await expect(popover).to_be_hidden()

        await rep_page.get_by_text("Board", exact=True).click()
        await expect(rep_page.get_by_test_id("task-column-TODO")).to_contain_text("Big Discount Deal")
        await screenshot(rep_page, "14-tasks-board")
    finally:
        await requester_context.close()
        await manager_context.close()


async def test_a_lost_connection_shows_a_notice_and_what_happened_meanwhile_arrives_after_it(
    context: BrowserContext, crm_dev: str
) -> None:
    page = await context.new_page()
    email = unique_email("browser-offline")
    await register(page, "Offline Seller", email, role="SALES")
    token = await page.evaluate("JSON.parse(localStorage.getItem('crm.session')).token")
    async with httpx.AsyncClient(base_url=crm_dev, timeout=10) as api:
        customer = await api.post("/api/customers", headers=bearer(token), json={"name": "Offline Corp"})
        assert customer.status_code == 201, customer.text
        customer_id = customer.json()["id"]
        await page.goto(f"/customers/{customer_id}")
        await expect(
            page.get_by_test_id("customer-task").filter(has_text="Initial contact: Offline Corp")
        ).to_be_visible()

        await context.set_offline(True)
        await expect(page.get_by_test_id("connection-notice")).to_contain_text("offline")

        async def task_created() -> bool:  # sales-activity knows the customer from CUSTOMER_CREATED already
            answer = await api.post(
                "/api/tasks",
                headers=bearer(token),
                json={"title": "Send the contract while you were away", "customerId": customer_id},
            )
            return answer.status_code == 201

        await eventually(task_created, timeout=20, interval=0.2, what="the task")
        await screenshot(page, "15-offline-notice")

        await context.set_offline(False)
        await expect(page.get_by_test_id("connection-notice")).to_have_count(0, timeout=30_000)
        await expect(
            page.get_by_test_id("customer-task").filter(has_text="while you were away")
        ).to_be_visible()
        await expect(page.get_by_test_id("customer-task")).to_have_count(2)  # nothing lost, nothing doubled


async def test_deals_move_between_stages_by_drag_and_drop_and_the_totals_follow(
    page: Page, crm_dev: str
) -> None:
    await register(page, "Pipeline Seller", unique_email("browser-dnd"), role="SALES")
    token = await page.evaluate("JSON.parse(localStorage.getItem('crm.session')).token")
    async with httpx.AsyncClient(base_url=crm_dev, timeout=10) as api:
        customer = await api.post("/api/customers", headers=bearer(token), json={"name": "Drag Corp"})
        assert customer.status_code == 201, customer.text

        async def deal(name: str, amount: str) -> None:
            async def created() -> bool:
                answer = await api.post(
                    "/api/opportunities",
                    headers=bearer(token),
                    json={"customerId": customer.json()["id"], "name": name, "amount": amount},
                )
                return answer.status_code == 201

            await eventually(created, timeout=20, interval=0.2, what=f"the deal {name}")

        await deal("Small Deal", "1000.50")
        await deal("Large Deal", "250000")

    await open_nav(page, "Deals")
    lead, qualified = page.get_by_test_id("deal-column-LEAD"), page.get_by_test_id("deal-column-QUALIFIED")
    await expect(lead.get_by_test_id("column-total")).to_have_text("¥251,001")  # JPY shows no decimals
    card = page.get_by_test_id("deal-card").filter(has_text="Large Deal")
    handle = card.get_by_label("Move Large Deal", exact=False)
    source, target = await handle.bounding_box(), await qualified.bounding_box()
    assert source and target
    await page.mouse.move(source["x"] + source["width"] / 2, source["y"] + source["height"] / 2)
    await page.mouse.down()
    await page.mouse.move(target["x"] + target["width"] / 2, target["y"] + 120, steps=15)
    await page.mouse.up()

    await expect(qualified).to_contain_text("Large Deal")
    await expect(qualified.get_by_test_id("column-total")).to_have_text("¥250,000")
    await expect(lead.get_by_test_id("column-total")).to_have_text("¥1,001")
    await page.reload()  # the server has it too
    await expect(page.get_by_test_id("deal-column-QUALIFIED")).to_contain_text("Large Deal")


async def test_a_deleted_customer_is_in_the_bin_and_can_be_restored(page: Page) -> None:
    await register(page, "Tidy Seller", unique_email("browser-bin"), role="SALES")
    await open_nav(page, "Customers")
    await page.get_by_role("button", name="New customer").click()
    dialog = page.get_by_role("dialog", name="New customer")
    await dialog.get_by_label(re.compile(r"^Name")).fill("Bin Corp")
    await dialog.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("heading", name="Bin Corp")).to_be_visible()

    page.once("dialog", lambda confirm: confirm.accept())
    await page.get_by_role("button", name="Delete").click()
    await expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    await expect(page.get_by_test_id("customer-row").filter(has_text="Bin Corp")).to_have_count(0)
    show_deleted = page.get_by_role("switch", name="Show deleted")
    await show_deleted.click()
    await expect(page.get_by_role("heading", name="Deleted customers")).to_be_visible()
    await page.get_by_role("button", name="Restore Bin Corp").click()
    await expect(page.get_by_test_id("customer-row").filter(has_text="Bin Corp")).to_have_count(0)
    await show_deleted.click()
    await expect(page.get_by_test_id("customer-row").filter(has_text="Bin Corp")).to_be_visible()
