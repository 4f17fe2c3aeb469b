"""The web app's figures (issue 7): the built app served by `crm dev` (as a process), driven by Debian's
Chromium through Playwright, timings read from the browser's Performance API.

- initial JavaScript per route, gzipped as sent (Resource Timing's encodedBodySize of every script the route
  loaded before it settled): goal < 300 KB;
- the dashboard's first paint on a cold cache: first contentful paint (yardstick: the first paint of the
  gateway's `/ready` JSON in the same browser) and the moment its title is in the page;
- the customers list with 10,000 customers (rows written straight into customer-service's SQLite file):
  a page of the API (`limit=50`, random offsets) and a search, p50/p99 (goal < 100 ms; yardstick: the same
  list of a user who owns one customer), and the customers screen's first row in the browser;
- a customer's creation → its first-contact TASK_CREATED on an open `/api/stream` (yardstick: the POST's own
  round trip), and → the new customer in the customers screen open in the browser (live, no reload);
- the issue's flow in the page: a customer saved in the app's form → its first-contact task in its page
  (yardstick: its page shown).

Usage: .venv/bin/python -m bench web   (or: .venv/bin/python -m bench.web [--customers 10000] [--samples 20])
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from tests.support.sse import of_type, open_stream

from bench.embedded import ADMIN, start_dev
from bench.stats import Figure, percentile, print_figures

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "Password123!"
POST = "the POST's own round trip"
CHOSEN = "no goal in the issue; 1 s chosen"
# Installed before any script of the page runs: when the first heading and the first table row enter the
# page, and the largest contentful paint so far.
MARKS = """
window.__marks = {};
new MutationObserver(() => {
  const m = window.__marks;
  if (m.heading === undefined && document.querySelector("h1, h2")) m.heading = performance.now();
  if (m.row === undefined && document.querySelector("tbody tr")) m.row = performance.now();
}).observe(document, { childList: true, subtree: true });
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__marks.lcp = entry.startTime;
}).observe({ type: "largest-contentful-paint", buffered: true });
"""
SCRIPTS_LOADED = """() => performance.getEntriesByType("resource")
  .filter((e) => new URL(e.name).pathname.endsWith(".js"))
  .reduce((total, e) => total + e.encodedBodySize, 0)"""
RESOURCES = """() => performance.getEntriesByType("resource").length"""
FCP = """() => (performance.getEntriesByName("first-contentful-paint")[0] || {}).startTime"""


def ensure_build() -> bool:
    """Build web/dist the way ./scripts/dev does (only when missing or stale); whether a build is there."""
    build = "source scripts/lib/web-app.sh && web_build_if_stale"
    subprocess.run(["bash", "-c", build], cwd=ROOT, check=False)
    return (ROOT / "web" / "dist" / "index.html").is_file()


def seed_customers(data_dir: Path, owners: list[str], count: int) -> None:
    """``count`` customers written straight into customer-service's SQLite file (no events: the list is
    what is measured, and 10,000 first-contact tasks would only slow the setup)."""
    from sqlalchemy import create_engine, insert

    from crm.services.customer.models import Customer

    now = datetime.now(UTC)
    industries = ["Technology", "Retail", "Finance", "Manufacturing", None]
    rows = [
        {
            "id": str(uuid.uuid4()),
            "name": f"Bench Customer {n:05d}",
            "email": f"customer{n}@bench.example",
            "phone": f"+81-3-{n:04d}-0000",
            "industry": industries[n % len(industries)],
            "size": ["SMALL", "MEDIUM", "LARGE"][n % 3],
            "owner_id": owners[n % len(owners)],
            "created_by": owners[n % len(owners)],
            "source_user_id": None,
            "created_at": now - timedelta(seconds=n),
            "updated_at": now - timedelta(seconds=n),
            "deleted_at": None,
        }
        for n in range(count)
    ]
    engine = create_engine(f"sqlite:///{data_dir / 'customer.sqlite3'}", connect_args={"timeout": 30})
    with engine.begin() as connection:
        connection.execute(insert(Customer), rows)
    engine.dispose()


async def account(api: httpx.AsyncClient, admin: str, role: str) -> dict[str, Any]:
    """A new user of ``role`` (made by the ADMIN), signed in: the login answer (token, refreshToken, user)."""
    email = f"{role.lower()}-{uuid.uuid4().hex[:8]}@bench.example"
    body = {"email": email, "password": PASSWORD, "name": f"Bench {role.title()}", "role": role}
    created = await api.post("/api/auth/users", json=body, headers={"Authorization": f"Bearer {admin}"})
    created.raise_for_status()
    login = await api.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    login.raise_for_status()
    result: dict[str, Any] = login.json()
    return result


def session_script(auth: dict[str, Any]) -> str:
    """Signs the page in as the app does after a login (its session in localStorage)."""
    session = {
        "token": auth["token"],
        "refreshToken": auth["refreshToken"],
        "expiresAt": int(time.time() * 1000) + auth["expiresIn"] * 1000,
        "user": auth["user"],
    }
    import json

    return f"localStorage.setItem('crm.session', {json.dumps(json.dumps(session))});"


async def settle(page: Any, quiet: float = 0.5, limit: float = 15.0) -> None:
    """Until the page has loaded nothing new for ``quiet`` seconds (the live stream stays open, so
    Playwright's networkidle would never come)."""
    deadline = time.monotonic() + limit
    count, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now_count = await page.evaluate(RESOURCES)
        if now_count != count:
            count, since = now_count, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        await asyncio.sleep(0.05)


async def first_paint(page: Any) -> float:
    """The page's first contentful paint (ms after its navigation started), once the browser recorded it."""
    await page.wait_for_function(f"({FCP})() !== undefined", timeout=15_000)
    paint: float = await page.evaluate(FCP)
    return paint


async def timed(samples: int, call: Any) -> list[float]:
    durations = []
    for _ in range(samples):
        started = time.perf_counter()
        await call()
        durations.append(time.perf_counter() - started)
    return durations


async def measure(base: str, data_dir: Path, customers: int, samples: int) -> list[Figure]:
    from playwright.async_api import async_playwright

    figures: list[Figure] = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as api:
        admin = (await api.post("/api/auth/login", json=ADMIN)).json()["token"]
        manager = await account(api, admin, "MANAGER")
        rep = await account(api, admin, "SALES")
        loner = await account(api, admin, "SALES")
        others = [(await account(api, admin, "SALES"))["user"]["id"] for _ in range(4)]
        seed_customers(data_dir, [manager["user"]["id"], *others], customers)
        seed_customers(data_dir, [loner["user"]["id"]], 1)
        some_customer = (await api.get("/api/customers?limit=1", headers=_bearer(manager))).json()["items"][0]

        # --- the customers list, through the API ------------------------------------------------------------
        async def page_of_all() -> None:
            offset = random.randrange(0, max(1, customers - 50))
            response = await api.get(f"/api/customers?limit=50&offset={offset}", headers=_bearer(manager))
            response.raise_for_status()

        async def search() -> None:
            response = await api.get(
                f"/api/customers?limit=50&q=customer {random.randrange(100):02d}", headers=_bearer(manager)
            )
            response.raise_for_status()

        async def page_of_one() -> None:
            (await api.get("/api/customers?limit=50", headers=_bearer(loner))).raise_for_status()

        await timed(20, page_of_all)  # warm up: connections, caches, the token check
        await timed(20, page_of_one)
        pages, small = await timed(200, page_of_all), await timed(200, page_of_one)
        searches = await timed(100, search)
        total = (await api.get("/api/customers?limit=1", headers=_bearer(manager))).json()["total"]
        one = "a list of one customer"
        figures += [
            timing(f"customers list page, {total:,} customers, p50", pages, 50, 100, small, one),
            timing(f"customers list page, {total:,} customers, p99", pages, 99, 100, small, one),
            timing(f"customers search (q=…, {total:,} customers), p50", searches, 50, 100, small, one),
        ]

        # --- customer created → TASK_CREATED on an open stream ----------------------------------------------
        delays, posts = [], []
        async with open_stream(base, rep["token"]) as stream:
            for n in range(samples):
                started = time.perf_counter()
                created = await api.post(
                    "/api/customers", json={"name": f"Stream Co {n}"}, headers=_bearer(rep)
                )
                posts.append(time.perf_counter() - started)
                created.raise_for_status()
                await stream.until(of_type("TASK_CREATED", customerId=created.json()["id"]), timeout=30)
                delays.append(time.perf_counter() - started)
        for label, q in (("p50", 50), ("p99", 99)):
            name = f"customer created → its TASK_CREATED on the open stream, {label}"
            figures.append(timing(name, delays, q, 1000, posts, POST, note=CHOSEN))

        # --- the browser ------------------------------------------------------------------------------------
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                shown = some_customer["id"]
                figures += await browser_figures(browser, base, api, manager, rep, shown, samples)
            finally:
                await browser.close()
    return figures


async def browser_figures(
    browser: Any,
    base: str,
    api: httpx.AsyncClient,
    manager: dict[str, Any],
    rep: dict[str, Any],
    customer_id: str,
    samples: int,
) -> list[Figure]:
    figures: list[Figure] = []

    async def fresh_page(auth: dict[str, Any] | None) -> tuple[Any, Any]:
        # A cold cache: the first visit. (The app's CSP refuses eval, which wait_for_function needs.)
        context = await browser.new_context(bypass_csp=True)
        await context.add_init_script(MARKS + (session_script(auth) if auth else ""))
        return context, await context.new_page()

    # Initial JavaScript per route.
    routes = [
        ("/signin", None),
        ("/", manager),
        ("/customers", manager),
        (f"/customers/{customer_id}", manager),
        ("/notifications", manager),
    ]
    for path, auth in routes:
        context, page = await fresh_page(auth)
        await page.goto(base + path, wait_until="load")
        await page.wait_for_function("window.__marks.heading !== undefined", timeout=15_000)
        await settle(page)
        size = await page.evaluate(SCRIPTS_LOADED)
        await context.close()
        name = "/customers/{id}" if path.startswith("/customers/") else path
        figures.append(Figure(f"initial JavaScript of {name}, gzipped", "KB", size / 1024, 300, False))

    # The dashboard's first paint, cold cache; the yardstick: /ready's, in the same browser.
    paints, headings, lcps, ready_paints = [], [], [], []
    for _ in range(max(3, samples // 4)):
        context, page = await fresh_page(manager)
        await page.goto(base + "/", wait_until="load")
        await page.wait_for_function("window.__marks.heading !== undefined", timeout=15_000)
        paints.append(await first_paint(page))
        marks = await page.evaluate("window.__marks")
        headings.append(marks["heading"])
        lcps.append(marks.get("lcp", float("nan")))
        await page.goto(base + "/ready", wait_until="load")
        ready_paints.append(await first_paint(page))
        await context.close()
    yard = statistics.median(ready_paints)
    figures.append(
        Figure(
            "dashboard first contentful paint (median, cold cache)",
            "ms",
            statistics.median(paints),
            1000,
            False,
            yard,
            "/ready's first paint",
            note=f"title in the page at {statistics.median(headings):.0f} ms, "
            f"LCP {statistics.median(lcps):.0f} ms; no goal in the issue, 1 s chosen",
        )
    )

    # The customers screen (10,000 customers) until its first row.
    rows = []
    for _ in range(3):
        context, page = await fresh_page(manager)
        await page.goto(base + "/customers", wait_until="load")
        await page.wait_for_function("window.__marks.row !== undefined", timeout=15_000)
        rows.append((await page.evaluate("window.__marks"))["row"])
        await context.close()
    figures.append(
        Figure(
            "customers screen: first row in the page (median, cold)",
            "ms",
            statistics.median(rows),
            1000,
            False,
            note="1 s chosen",
        )
    )

    # A customer created elsewhere appears in the open customers screen, without a reload.
    context, page = await fresh_page(rep)
    await page.goto(base + "/customers", wait_until="load")
    await page.wait_for_function("window.__marks.row !== undefined", timeout=15_000)
    await settle(page)
    shown, posts = [], []
    for n in range(max(3, samples // 2)):
        name = f"Live Page Co {n} {uuid.uuid4().hex[:6]}"
        started = time.perf_counter()
        created = await api.post("/api/customers", json={"name": name}, headers=_bearer(rep))
        posts.append(time.perf_counter() - started)
        created.raise_for_status()
        await page.get_by_text(name).first.wait_for(timeout=15_000)
        shown.append(time.perf_counter() - started)

    # The flow in the page: a customer saved in the app's form, then its page, where the first-contact
    # task appears live (the task is made by sales-activity after CUSTOMER_CREATED reaches it).
    opened, tasked = [], []
    for n in range(max(3, samples // 4)):
        name = f"Form Co {n} {uuid.uuid4().hex[:6]}"
        await page.goto(base + "/customers", wait_until="load")
        await page.get_by_role("button", name="New customer").click()
        dialog = page.get_by_role("dialog", name="New customer")
        await dialog.get_by_label(re.compile(r"^Name")).fill(name)
        started = time.perf_counter()
        await dialog.get_by_role("button", name="Save").click()
        await page.get_by_role("heading", name=name).wait_for(timeout=15_000)
        opened.append(time.perf_counter() - started)
        task = page.get_by_test_id("customer-task").filter(has_text=f"Initial contact: {name}")
        await task.first.wait_for(timeout=15_000)
        tasked.append(time.perf_counter() - started)
    await context.close()
    live = "live: CUSTOMER_CREATED on the stream, the list refetched; 1 s chosen"
    name = "customer created → shown in the open customers screen, p50"
    figures.append(timing(name, shown, 50, 1000, posts, POST, note=live))
    name = "customer saved in the form → its first-contact task in its page, p50"
    figures.append(timing(name, tasked, 50, 1000, opened, "its page shown", note="live, no reload"))
    return figures


def timing(
    name: str,
    durations: list[float],
    q: int,
    goal_ms: float,
    yardstick: list[float],
    yard: str,
    note: str = "",
) -> Figure:
    """The ``q`` th percentile of ``durations`` (seconds) against a goal in ms, beside its yardstick's."""
    measured, against = percentile(durations, q) * 1000, percentile(yardstick, q) * 1000
    return Figure(name, "ms", measured, goal_ms, False, against, yard, note=note)


def _bearer(auth: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth['token']}"}


def figures(data_dir: Path, customers: int, samples: int) -> list[Figure]:
    """Every figure of this module; none (and a line saying why) without a build of the app."""
    if not ensure_build():
        print("bench web: no build of the web app (web/dist) and none could be made: skipped")
        return []
    data_dir.mkdir(parents=True, exist_ok=True)
    server = start_dev(data_dir)
    try:
        return asyncio.run(measure(server.url, data_dir, customers, samples))
    finally:
        server.stop()


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crm-bench-web-") as tmp:
        print_figures(figures(Path(tmp), args.customers, args.samples))


if __name__ == "__main__":
    main()
