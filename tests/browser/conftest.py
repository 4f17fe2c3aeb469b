"""Browser end-to-end tests: Debian's chromium driven by Playwright against a real `crm dev` process (its own
port and data directory) serving the built web app (``WEB_DIST_DIR`` = ``web/dist``).

The app must be built first (``cd web && npm ci && npm run build``; ``./scripts/test`` does it); when
``web/dist`` is missing and npm is on PATH the session builds it. Screenshots go to
``test-artifacts/screenshots/`` (gitignored). The steps and pieces the tests share (sign in, register,
open a screen, screenshot, the chromium launch options) are in ``tests/support/browser.py``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from crm.localinfra.ports import free_port
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, built_app, require_chromium
from tests.support.embedded import ADMIN_EMAIL, ADMIN_PASSWORD


@pytest.fixture(scope="session")
def crm_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `crm dev` process on a free port; yields its base URL; stopped (and waited for) at the end."""
    dist = built_app()
    data_dir = tmp_path_factory.mktemp("crm-browser")
    port = free_port()
    env = {
        **os.environ,
        "WEB_DIST_DIR": str(dist),
        "CRM_ADMIN_EMAIL": ADMIN_EMAIL,
        "CRM_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "OUTBOX_POLL_INTERVAL_MS": "200",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("JWT_SECRET", None)
    log = (data_dir / "crm-dev.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "crm", "dev", "--port", str(port), "--data-dir", str(data_dir)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_healthy(base: str, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    """Poll /health until it answers 200, with a deadline (a cold start is slow on a busy CI machine)."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise AssertionError(f"crm dev exited ({process.returncode}) during start")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"crm dev did not answer /health within {timeout}s")
        time.sleep(0.2)


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
