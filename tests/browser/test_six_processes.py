"""The live-customer flow in a real browser against the six-process mode on the test bed's real Kafka and
PostgreSQL: the gateway serves the built app and streams the events it tails from Kafka."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from crm.localinfra import KafkaBroker, PostgresCluster
from crm.modes.local_cluster import SERVICES, Cluster, plaintext_kafka, start_cluster
from tests.support.browser import built_app, open_nav, register, screenshot, unique_email

LOGS = Path(__file__).resolve().parents[2] / "test-artifacts" / "logs"


@pytest.fixture(scope="module")
def browser_cluster(kafka_broker: KafkaBroker, postgres: PostgresCluster) -> Iterator[Cluster]:
    """Module-scoped like the integration clusters: two clusters must not share the consumer groups."""
    dist = built_app()
    LOGS.mkdir(parents=True, exist_ok=True)
    envs = {n: plaintext_kafka(kafka_broker) for n in SERVICES}
    cluster = start_cluster("browser", LOGS, postgres, envs, gateway_overrides={"WEB_DIST_DIR": str(dist)})
    yield cluster
    cluster.stop()


@pytest.mark.connected
async def test_six_processes_a_new_customers_first_contact_task_appears_live(
    browser: Browser, browser_cluster: Cluster
) -> None:
    context = await browser.new_context(
        base_url=browser_cluster.gateway, viewport={"width": 1280, "height": 860}
    )
    context.set_default_timeout(30_000)
    try:
        page = await context.new_page()
        email = unique_email("six-sales")
        await register(page, "Six Process Seller", email, role="SALES")
        await open_nav(page, "Customers")
        # USER_CREATED crossed Kafka to customer-service: the user's own customer is listed.
        await expect(page.get_by_test_id("customer-row").filter(has_text=email)).to_be_visible()

        await page.get_by_role("button", name="New customer").click()
        dialog = page.get_by_role("dialog", name="New customer")
        await dialog.get_by_label(re.compile(r"^Name")).fill("Kafka Company")
        await dialog.get_by_role("button", name="Save").click()
        await expect(page.get_by_role("heading", name="Kafka Company")).to_be_visible()
        url = page.url
        # CUSTOMER_CREATED → Kafka → sales-activity → TASK_CREATED → Kafka → the gateway's stream → the page.
        task = page.get_by_test_id("customer-task").filter(has_text="Initial contact: Kafka Company")
        await expect(task).to_be_visible(timeout=30_000)
        assert page.url == url
        await screenshot(page, "20-six-processes-customer-detail")
    finally:
        await context.close()
