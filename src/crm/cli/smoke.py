"""``crm smoke URL``: the guide's section 7 acceptance test as one command against any deployment.

Registers a user, waits for the user's customer record (USER_CREATED → customer-service), creates a
customer, waits for its first-contact task (CUSTOMER_CREATED → sales-activity-service). Prints each step
with its time; exit code 0 only if every step passed."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import aiohttp
import typer

from crm.cli.common import err, out


class StepFailed(Exception):
    pass


async def _eventually(probe: Callable[[], Awaitable[Any]], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise StepFailed(f"not seen within {timeout:.0f}s")
        await asyncio.sleep(0.1)


async def _json(response: aiohttp.ClientResponse, expected: int) -> Any:
    body = await response.json(content_type=None)
    if response.status != expected:
        raise StepFailed(f"HTTP {response.status}: {body}")
    return body


async def run_smoke(base_url: str, timeout: float) -> int:
    failures = 0
    email = f"smoke-{uuid.uuid4().hex[:10]}@example.com"
    state: dict[str, Any] = {}

    async with aiohttp.ClientSession(
        base_url=base_url.rstrip("/"), timeout=aiohttp.ClientTimeout(total=30)
    ) as http:

        def auth() -> dict[str, str]:
            return {"Authorization": f"Bearer {state['token']}"}

        async def health() -> str:
            async with http.get("/health") as r:
                body = await r.json(content_type=None)
                return f"{body.get('status')} ({r.status})"

        async def register() -> str:
            body = {"email": email, "password": "Password123!", "name": "Smoke Test", "role": "USER"}
            async with http.post("/api/auth/register", json=body) as r:
                data = await _json(r, 201)
            state["token"], state["user"] = data["token"], data["user"]["id"]
            return email

        async def own_customer() -> str:
            async def probe() -> Any:
                async with http.get("/api/customers", headers=auth()) as r:
                    return (await _json(r, 200))["items"]

            items = await _eventually(probe, timeout)
            return f"customer {items[0]['id']}"

        async def create_customer() -> str:
            body = {
                "name": "Test Company",
                "industry": "Technology",
                "size": "MEDIUM",
                "email": "contact@testcompany.com",
            }
            async with http.post("/api/customers", json=body, headers=auth()) as r:
                state["customer"] = (await _json(r, 201))["id"]
            return f"customer {state['customer']}"

        async def first_contact_task() -> str:
            async def probe() -> Any:
                params = {"customerId": state["customer"]}
                async with http.get("/api/tasks", params=params, headers=auth()) as r:
                    return (await _json(r, 200))["items"]

            tasks = await _eventually(probe, timeout)
            return f"task {tasks[0]['title']!r}"

        steps: list[tuple[str, Callable[[], Awaitable[str]]]] = [
            ("gateway health", health),
            ("register a user (USER_CREATED)", register),
            ("the user's customer appears", own_customer),
            ("create a customer (CUSTOMER_CREATED)", create_customer),
            ("its first-contact task appears", first_contact_task),
        ]
        for label, step in steps:
            started = time.perf_counter()
            try:
                detail = await step()
            except (StepFailed, aiohttp.ClientError, TimeoutError, KeyError, ValueError) as exc:
                failures += 1
                elapsed = (time.perf_counter() - started) * 1000
                out.print(f"❌ {label:40} {elapsed:8.0f} ms  {exc}", soft_wrap=True)
                break
            elapsed = (time.perf_counter() - started) * 1000
            out.print(f"✅ {label:40} {elapsed:8.0f} ms  {detail}", soft_wrap=True)
    return failures


def smoke(
    url: Annotated[str, typer.Argument(help="the gateway's base URL, e.g. http://127.0.0.1:8000")],
    timeout: Annotated[float, typer.Option(help="seconds to wait for each event's effect")] = 15.0,
) -> None:
    """Run the guide's acceptance test against a running CRM; exit 1 on the first failed step."""
    try:
        failures = asyncio.run(run_smoke(url, timeout))
    except aiohttp.InvalidURL:
        err.print(f"[bold red]✖[/] not a URL: {url}")
        raise typer.Exit(2) from None
    raise typer.Exit(1 if failures else 0)
