"""Browser end-to-end tests: Debian's chromium driven by Playwright against a real `crm dev` process (its own
port and data directory) serving the built web app (``WEB_DIST_DIR`` = ``web/dist``).

The app must be built first (``cd web && npm ci && npm run build``; ``./scripts/test`` does it); when
``web/dist`` is missing and npm is on PATH the session builds it. Screenshots go to
``test-artifacts/screenshots/`` (gitignored). The steps and pieces the tests share (sign in, register,
open a screen, screenshot, the chromium launch options) are in ``tests/support/browser.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from crm.localinfra import DevServer
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, built_app, require_chromium
from tests.support.embedded import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.testbed import running


@pytest.fixture(scope="session")
def crm_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `crm dev` process on a free port; yields its base URL; stopped (and waited for) at the end."""
    dist = built_app()
    env = {
        "WEB_DIST_DIR": str(dist),
        "CRM_ADMIN_EMAIL": ADMIN_EMAIL,
        "CRM_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "OUTBOX_POLL_INTERVAL_MS": "200",
        "LOG_LEVEL": "WARNING",
        "JWT_SECRET": None,
    }
    server = DevServer(tmp_path_factory.mktemp("crm-browser") / "data", env=env)
    with running(server, "crm dev (the browser tests' server)"):
        yield server.url


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    require_chromium()
    async with async_playwright() as playwright:
        # launch() gives every run a new, empty, temporary user-data directory.
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def context(browser: Browser, crm_dev: str) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(
        base_url=crm_dev, viewport={"width": 1280, "height": 860}, locale="en-US"
    )
    context.set_default_timeout(20_000)
    try:
        yield context
    finally:
        await context.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()
