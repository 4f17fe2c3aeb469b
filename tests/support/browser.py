"""What every browser test shares (the fixtures that use it are in ``tests/browser/conftest.py``): the built
app, how chromium is launched, screenshots, and the steps a user takes in the app (register, sign in,
open a screen)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "Password123!"


def built_app() -> Path:
    """``web/dist``, built first (``npm ci`` when needed, then ``npm run build``) when it is missing."""
    dist = WEB / "dist"
    if not (dist / "index.html").exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("web/dist is not built and npm is missing: cd web && npm ci && npm run build")
        if not (WEB / "node_modules").exists():
            subprocess.run([npm, "ci"], cwd=WEB, check=True)
        subprocess.run([npm, "run", "build"], cwd=WEB, check=True)
    return dist


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")


async def screenshot(page: Page, name: str) -> None:
    """Saves the page as it is now: wait for what the screen must show before calling this (the live stream
    keeps a request open, so "network idle" never comes)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def unique_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


async def register(page: Page, name: str, email: str, *, role: str = "USER") -> None:
    """Registers through the app's form (password ``PASSWORD``); returns on the dashboard, signed in."""
    await page.goto("/register")
    await page.get_by_label(re.compile(r"^Name")).fill(name)
    await page.get_by_label(re.compile(r"^Email")).fill(email)
    await page.get_by_role("textbox", name=re.compile(r"^Password")).fill(PASSWORD)
    if role == "SALES":
        await page.get_by_text("In sales").click()
    await page.get_by_role("button", name="Register").click()
    await expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


async def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Signs in through the app's form; returns on the dashboard."""
    await page.goto("/signin")
    await page.get_by_label(re.compile(r"^Email")).fill(email)
    await page.get_by_role("textbox", name=re.compile(r"^Password")).fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


async def open_nav(page: Page, label: str) -> None:
    """Opens a screen from the main navigation, as a user would."""
    await page.get_by_role("navigation", name="Main navigation").get_by_role("link", name=label).click()
