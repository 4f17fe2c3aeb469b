"""``crm seed``: realistic demo data through the public API of a running CRM (any mode, any deployment).

As an administrator it creates users of every role; then each sales rep signs in and creates their customers
(Japanese and English companies), deals in every stage, meetings and tasks; reps ask for approvals and
managers decide some of them. Every run uses fresh e-mail addresses (a run tag), so running it twice simply
adds a second set. A deal, meeting or task needs its customer to be known by the service that owns it, which
learns it from CUSTOMER_CREATED: those requests are retried until a deadline, never after a blind sleep.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import aiohttp
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from crm.cli.common import err, fail, out
from crm.platform.settings import ConfigError, Settings


class Size(StrEnum):
    small = "small"
    medium = "medium"
    large = "large"


@dataclass(frozen=True)
class Plan:
    roles: dict[str, int]  # role -> users
    customers: int
    deals: int
    meetings: int
    tasks: int
    approvals: int


PLANS = {
    Size.small: Plan({"ADMIN": 1, "MANAGER": 1, "SALES": 2, "COMPLIANCE": 1, "USER": 1}, 10, 12, 8, 10, 4),
    Size.medium: Plan({"ADMIN": 1, "MANAGER": 2, "SALES": 6, "COMPLIANCE": 1, "USER": 2}, 40, 48, 40, 60, 12),
    Size.large: Plan(
        {"ADMIN": 2, "MANAGER": 4, "SALES": 15, "COMPLIANCE": 2, "USER": 5}, 200, 240, 200, 300, 48
    ),
}
STAGES = ["LEAD", "QUALIFIED", "PROPOSAL", "NEGOTIATION", "WON", "LOST"]
PEOPLE = [  # (display name, e-mail local part)
    ("佐藤 陽翔", "haruto.sato"),
    ("鈴木 結衣", "yui.suzuki"),
    ("高橋 蓮", "ren.takahashi"),
    ("田中 美咲", "misaki.tanaka"),
    ("伊藤 大翔", "hiroto.ito"),
    ("渡辺 葵", "aoi.watanabe"),
    ("山本 湊", "minato.yamamoto"),
    ("中村 さくら", "sakura.nakamura"),
    ("小林 悠真", "yuma.kobayashi"),
    ("加藤 凛", "rin.kato"),
    ("Emily Carter", "emily.carter"),
    ("James Walker", "james.walker"),
    ("Olivia Bennett", "olivia.bennett"),
    ("Daniel Brooks", "daniel.brooks"),
    ("Sophia Turner", "sophia.turner"),
    ("Michael Reed", "michael.reed"),
]
JP_NAMES = [  # (name, romaji for the e-mail domain)
    ("さくら", "sakura"),
    ("青葉", "aoba"),
    ("富士", "fuji"),
    ("北斗", "hokuto"),
    ("大和", "yamato"),
    ("東雲", "shinonome"),
    ("みなと", "minato"),
    ("朝日", "asahi"),
    ("白樺", "shirakaba"),
    ("瑞穂", "mizuho"),
]
JP_TRADES = [  # (trade, romaji, industry)
    ("商事", "shoji", "Trading"),
    ("テクノロジー", "tech", "Technology"),
    ("製作所", "seisakusho", "Manufacturing"),
    ("物流", "butsuryu", "Logistics"),
    ("フーズ", "foods", "Food & Beverage"),
    ("メディカル", "medical", "Healthcare"),
    ("建設", "kensetsu", "Construction"),
    ("エナジー", "energy", "Energy"),
    ("不動産", "fudosan", "Real Estate"),
    ("システムズ", "systems", "Technology"),
]
EN_NAMES = ["Northwind", "Blue Harbor", "Summit", "Pioneer", "Crescent", "Evergreen", "Atlas", "Redwood"]
EN_TRADES = [  # (trade, industry)
    ("Trading", "Trading"),
    ("Systems", "Technology"),
    ("Logistics", "Logistics"),
    ("Foods", "Food & Beverage"),
    ("Health", "Healthcare"),
    ("Energy", "Energy"),
    ("Analytics", "Technology"),
    ("Retail", "Retail"),
    ("Manufacturing", "Manufacturing"),
    ("Financial", "Finance"),
]
SIZES = ["SMALL", "MEDIUM", "MEDIUM", "LARGE", "ENTERPRISE"]
PRODUCTS = ["クラウド移行", "年間保守契約", "CRM導入支援", "セキュリティ診断", "Data platform", "ERP upgrade"]
MEETING_TITLES = [
    "キックオフ",
    "製品デモ",
    "要件ヒアリング",
    "Quarterly business review",
    "Contract negotiation",
]
PLACES = ["東京本社", "大阪支社", "Zoom", "Google Meet", "Customer office"]
TASK_TITLES = [
    "見積書を送付",
    "契約書レビュー",
    "提案資料の更新",
    "Follow up on the proposal",
    "Prepare the demo",
]
PRIORITIES = ["LOW", "MEDIUM", "HIGH", "URGENT"]


class SeedError(Exception):
    """A request failed in a way retrying will not fix; the message says which and why."""


@dataclass
class Actor:
    id: str
    email: str
    name: str
    role: str
    token: str = ""


@dataclass
class Tally:
    created: Counter[str] = field(default_factory=Counter)
    detail: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, kind: str, what: str | None = None) -> None:
        self.created[kind] += 1
        if what is not None:
            self.detail.setdefault(kind, Counter())[what] += 1


class Api:
    """The CRM's public API over one pooled HTTP session; every call checks its status."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http
        self.deadline = float("inf")  # for `once_customer_known`; set once the customers exist

    async def call(
        self, method: str, path: str, token: str | None, body: Any = None, expect: int = 200
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(method, path, json=body, headers=headers) as response:
            data = await response.json(content_type=None) if response.status != 204 else None
            if response.status != expect:
                raise SeedError(f"{method} {path} answered {response.status}: {data}")
            return data

    async def once_customer_known(
        self, method: str, path: str, token: str, body: Any, expect: int = 201
    ) -> Any:
        """``call``, retried while the owning service does not know the customer yet (422 on customerId):
        it learns it from CUSTOMER_CREATED. Polls with a growing interval until the deadline."""
        interval = 0.05
        while True:
            try:
                return await self.call(method, path, token, body, expect)
            except SeedError as exc:
                if "422" not in str(exc) or "customerId" not in str(exc):
                    raise
                if time.monotonic() > self.deadline:
                    raise SeedError(f"{exc} (the customer was still unknown at the deadline)") from None
            await asyncio.sleep(interval)
            interval = min(0.5, interval * 2)


class Seeder:
    def __init__(
        self, api: Api, plan: Plan, password: str, rng: random.Random, progress: Progress, timeout: float
    ) -> None:
        self.api, self.plan, self.password, self.rng, self.progress = api, plan, password, rng, progress
        self.timeout = timeout
        self.tag = secrets.token_hex(3)
        self.tally = Tally()
        self.users: list[Actor] = []
        self.customers: list[tuple[dict[str, Any], Actor]] = []  # (customer, owner)
        self.deals: list[tuple[dict[str, Any], Actor]] = []
        self.now = datetime.now(UTC)
        self._gate = asyncio.Semaphore(8)

    async def phase(self, label: str, jobs: Sequence[Awaitable[None]]) -> None:
        """Await ``jobs`` (8 at a time) with a progress line."""
        task = self.progress.add_task(label, total=len(jobs))

        async def run(job: Awaitable[None]) -> None:
            async with self._gate:
                await job
            self.progress.advance(task)

        await asyncio.gather(*(run(job) for job in jobs))

    async def run(self, admin_email: str, admin_password: str) -> None:
        login = await self.api.call(
            "POST", "/api/auth/login", None, {"email": admin_email, "password": admin_password}
        )
        admin = Actor(login["user"]["id"], admin_email, login["user"]["name"], "ADMIN", login["token"])
        roles = [role for role, count in self.plan.roles.items() for _ in range(count)]
        await self.phase("users (every role)", [self.user(admin, i, r) for i, r in enumerate(roles)])
        reps = [u for u in self.users if u.role in ("SALES", "USER")]
        managers = [u for u in self.users if u.role == "MANAGER"]
        await self.phase("sign in", [self.sign_in(u) for u in self.users])
        await self.phase(
            "customers",
            [self.customer(i, reps[i % len(reps)]) for i in range(self.plan.customers)],
        )
        self.api.deadline = time.monotonic() + self.timeout  # for the services to learn them
        await self.phase("deals (every stage)", [self.deal(i) for i in range(self.plan.deals)])
        await self.phase("meetings", [self.meeting(i) for i in range(self.plan.meetings)])
        await self.phase("tasks", [self.task(i) for i in range(self.plan.tasks)])
        open_deals = [d for d in self.deals if d[0]["stage"] not in ("WON", "LOST")]
        picked = open_deals[: self.plan.approvals]
        await self.phase(
            "approvals", [self.approval(i, deal, owner, managers) for i, (deal, owner) in enumerate(picked)]
        )

    async def user(self, admin: Actor, index: int, role: str) -> None:
        name, local = PEOPLE[index % len(PEOPLE)]
        email = f"{local}.{index}.{self.tag}@demo.example.com"
        body = {"email": email, "password": self.password, "name": name, "role": role}
        created = await self.api.call("POST", "/api/auth/users", admin.token, body, expect=201)
        self.users.append(Actor(created["id"], email, name, role))
        self.tally.add("users", role)

    async def sign_in(self, user: Actor) -> None:
        body = {"email": user.email, "password": self.password}
        user.token = (await self.api.call("POST", "/api/auth/login", None, body))["token"]

    async def customer(self, index: int, owner: Actor) -> None:
        rng = self.rng
        if index % 2 == 0:
            (jp, romaji), (trade, trade_romaji, industry) = rng.choice(JP_NAMES), rng.choice(JP_TRADES)
            name = rng.choice([f"株式会社{jp}{trade}", f"{jp}{trade}株式会社", f"合同会社{jp}{trade}"])
            slug, phone = (
                f"{romaji}-{trade_romaji}",
                f"+81 3-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
            )
        else:
            base, (trade, industry) = rng.choice(EN_NAMES), rng.choice(EN_TRADES)
            name = f"{base} {trade} {rng.choice(['Inc.', 'Ltd.', 'LLC', 'Corp.'])}"
            slug, phone = f"{base}-{trade}".lower().replace(" ", ""), f"+1 415-555-{rng.randint(1000, 9999)}"
        body = {
            "name": name,
            "industry": industry,
            "size": rng.choice(SIZES),
            "email": f"contact@{slug}-{self.tag}.example.com",
            "phone": phone,
        }
        created = await self.api.call("POST", "/api/customers", owner.token, body, expect=201)
        self.customers.append((created, owner))
        self.tally.add("customers", industry)

    async def deal(self, index: int) -> None:
        customer, owner = self.customers[index % len(self.customers)]
        stage = STAGES[index % len(STAGES)]
        jpy = not customer["phone"].startswith("+1")
        amount = self.rng.randint(50, 3000) * 10_000 if jpy else self.rng.randint(5, 300) * 1_000
        closes = self.now + timedelta(
            days=self.rng.randint(-60, -1) if stage in ("WON", "LOST") else self.rng.randint(7, 120)
        )
        body = {
            "customerId": customer["id"],
            "name": f"{customer['name']} · {self.rng.choice(PRODUCTS)}",
            "amount": f"{amount}.00",
            "currency": "JPY" if jpy else "USD",
            "stage": stage,
            "expectedCloseDate": closes.date().isoformat(),
        }
        created = await self.api.once_customer_known("POST", "/api/opportunities", owner.token, body)
        self.deals.append((created, owner))
        self.tally.add("deals", stage)

    async def meeting(self, index: int) -> None:
        customer, owner = self.customers[index % len(self.customers)]
        deal = next((d for d, _ in self.deals if d["customerId"] == customer["id"]), None)
        starts = (self.now + timedelta(days=self.rng.randint(-30, 30))).replace(
            minute=0, second=0, microsecond=0
        )
        body = {
            "customerId": customer["id"],
            "opportunityId": deal["id"] if deal else None,
            "title": f"{self.rng.choice(MEETING_TITLES)}: {customer['name']}",
            "startsAt": starts.isoformat(),
            "endsAt": (starts + timedelta(hours=1)).isoformat(),
            "attendees": [owner.name, self.rng.choice(PEOPLE)[0]],
            "location": self.rng.choice(PLACES),
        }
        meeting = await self.api.once_customer_known("POST", "/api/meetings", owner.token, body)
        status = "SCHEDULED"
        if starts < self.now:
            status = "CANCELLED" if index % 7 == 3 else "COMPLETED"
            change = {"status": status, "summary": "Discussed requirements and next steps."}
            await self.api.call("PATCH", f"/api/meetings/{meeting['id']}", owner.token, change)
        self.tally.add("meetings", status)

    async def task(self, index: int) -> None:
        customer, owner = self.customers[index % len(self.customers)]
        deal = next((d for d, _ in self.deals if d["customerId"] == customer["id"]), None)
        due = self.now + timedelta(
            hours=self.rng.choice([-48, -5, 6, 20, 72, 240])
        )  # overdue, due soon, later
        body = {
            "title": self.rng.choice(TASK_TITLES),
            "customerId": customer["id"],
            "opportunityId": deal["id"] if deal and index % 2 else None,
            "priority": PRIORITIES[index % len(PRIORITIES)],
            "dueDate": due.isoformat(),
        }
        task = await self.api.once_customer_known("POST", "/api/tasks", owner.token, body)
        status = ["TODO", "IN_PROGRESS", "COMPLETED", "TODO", "CANCELLED"][index % 5]
        path = f"/api/tasks/{task['id']}"
        if status == "IN_PROGRESS":
            await self.api.call("PATCH", path, owner.token, {"status": status})
        elif status == "COMPLETED":
            await self.api.call("POST", f"{path}/complete", owner.token)
        elif status == "CANCELLED":
            await self.api.call("DELETE", path, owner.token, expect=204)
        self.tally.add("tasks", status)

    async def approval(self, index: int, deal: dict[str, Any], owner: Actor, managers: list[Actor]) -> None:
        body = {
            "opportunityId": deal["id"],
            "title": f"Discount approval: {deal['name']}"[:200],
            "reason": "The customer asks for a 10% discount to sign this quarter.",
            "approverRole": "MANAGER",
        }
        approval = await self.api.call("POST", "/api/approvals", owner.token, body, expect=201)
        path, manager = f"/api/approvals/{approval['id']}", managers[index % len(managers)]
        outcome = ["APPROVED", "REJECTED", "PENDING", "APPROVED", "RECALLED", "PENDING"][index % 6]
        if outcome == "APPROVED":
            await self.api.call("POST", f"{path}/approve", manager.token, {"comment": "承認します。"})
        elif outcome == "REJECTED":
            await self.api.call("POST", f"{path}/reject", manager.token, {"comment": "Margin too low."})
        elif outcome == "RECALLED":
            await self.api.call("POST", f"{path}/recall", owner.token)
        self.tally.add("approvals", outcome)


def seed(
    url: Annotated[str, typer.Option(help="the CRM's gateway")] = "http://127.0.0.1:8000",
    size: Annotated[Size, typer.Option(help="how much to create")] = Size.small,
    admin_email: Annotated[
        str | None, typer.Option(help="default: $CRM_ADMIN_EMAIL or admin@crm.local")
    ] = None,
    admin_password: Annotated[str | None, typer.Option(help="default: $CRM_ADMIN_PASSWORD")] = None,
    password: Annotated[
        str | None, typer.Option(help="the demo users' password (default: a new one, printed)")
    ] = None,
    timeout: Annotated[float, typer.Option(help="seconds a service may take to learn a new customer")] = 30.0,
    random_seed: Annotated[int | None, typer.Option("--random-seed", help="repeatable choices")] = None,
) -> None:
    """Fill a running CRM with realistic demo data through its API: users of every role, customers, deals
    in every stage, meetings, tasks and approvals (some decided). Each run adds a set of its own."""
    try:
        env = Settings.from_env("cli").env
    except ConfigError as exc:
        fail(str(exc))
    email = admin_email or env.text("CRM_ADMIN_EMAIL", "admin@crm.local")
    secret = admin_password or env.text("CRM_ADMIN_PASSWORD")
    if not secret:
        fail("the administrator's password is needed: set CRM_ADMIN_PASSWORD or pass --admin-password")
    password = password or f"Demo-{secrets.token_hex(4)}"
    if len(password) < 8:
        fail("--password must be at least 8 characters long")
    started = time.perf_counter()
    try:
        seeder = asyncio.run(
            _seed(url, PLANS[size], email, secret, password, timeout, random.Random(random_seed))
        )
    except aiohttp.InvalidURL:
        fail(f"not a URL: {url}")
    except aiohttp.ClientConnectionError as exc:
        fail(f"cannot reach the CRM at {url} ({exc}): is it running? (`crm dev`)")
    except SeedError as exc:
        if "/api/auth/login answered 401" in str(exc):
            fail(f"the administrator {email} could not sign in: check CRM_ADMIN_EMAIL / CRM_ADMIN_PASSWORD")
        fail(str(exc))
    _report(seeder, url, time.perf_counter() - started)


async def _seed(
    url: str, plan: Plan, email: str, secret: str, password: str, timeout: float, rng: random.Random
) -> Seeder:
    client_timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base_url=url.rstrip("/"), timeout=client_timeout) as http:
        api = Api(http)
        columns = (
            TextColumn("{task.description:22}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err) as progress:
            seeder = Seeder(api, plan, password, rng, progress, timeout)
            await seeder.run(email, secret)
    return seeder


def _report(seeder: Seeder, url: str, seconds: float) -> None:
    table = Table(
        "created", "count", "of which", title=f"crm seed · run {seeder.tag} · {url} · {seconds:.1f} s"
    )
    for kind in ("users", "customers", "deals", "meetings", "tasks", "approvals"):
        detail = seeder.tally.detail.get(kind, Counter())
        table.add_row(
            kind, str(seeder.tally.created[kind]), ", ".join(f"{k} {v}" for k, v in sorted(detail.items()))
        )
    out.print(table)
    out.print(
        "Each user also got a customer record and each customer a first-contact task, from their events. "
        f"Sign in as any of them with the password {seeder.password!r}, for example:"
    )
    for user in sorted(seeder.users, key=lambda u: u.role):
        out.print(f"  {user.role:10} {user.email}  ({user.name})")
