"""A seeded load through the gateway, as clients would send it: register, customers, meetings, tasks, deals,
approvals requested and decided, customer deletes, user deletes.

Writes are retried the way a careful client does: a refused connection, a 503 or the gateway's "unreachable"
502 means the request never ran, so it is sent again. A broken connection, a timeout or a 504 leaves it in
doubt: the driver first looks the write up by its unique marker (and takes it if it is there) before sending
it again. Every accepted write is recorded in the :class:`Ledger` with its id; anything else (a 422 while a
projection lags, a 409) is counted, and a 500 is recorded as a failure."""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

ADMIN = {"email": "admin@example.com", "password": "Admin-Password-1"}
# (operation, weight): the mix each worker draws from, with its own seeded generator
MIX = [
    ("register", 8),
    ("customer", 24),
    ("meeting", 12),
    ("task", 14),
    ("deal", 14),
    ("approval", 10),
    ("decide", 10),
    ("delete_customer", 5),
    ("delete_user", 3),
]
SAFE_TO_RESEND = {503}  # the service refused before doing anything


class WriteFailed(AssertionError):
    """A write the driver could not get accepted within its deadline, or one that answered 500."""


@dataclass
class Actor:
    id: str
    email: str
    password: str
    token: str
    customers: list[str] = field(default_factory=list)
    deals: list[str] = field(default_factory=list)


@dataclass
class Ledger:
    """Every accepted write, by kind: id → what the checker needs to know about it."""

    users: dict[str, str] = field(default_factory=dict)  # id → email
    customers: dict[str, str] = field(default_factory=dict)  # id → name (the marker)
    meetings: dict[str, str] = field(default_factory=dict)  # id → title
    tasks: dict[str, str] = field(default_factory=dict)  # id → title
    deals: dict[str, str] = field(default_factory=dict)  # id → name
    approvals: dict[str, str] = field(default_factory=dict)  # id → title
    decisions: dict[str, str] = field(default_factory=dict)  # approval id → APPROVED | REJECTED
    deleted_customers: set[str] = field(default_factory=set)
    deleted_users: set[str] = field(default_factory=set)
    outcomes: Counter[str] = field(default_factory=Counter)  # "customer 201", "retry 502", "in doubt found"
    failures: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return sum(
            len(x)
            for x in (
                self.users,
                self.customers,
                self.meetings,
                self.tasks,
                self.deals,
                self.approvals,
                self.decisions,
                self.deleted_customers,
                self.deleted_users,
            )
        )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Client:
    """One HTTP client over the gateway with the retry rules above."""

    def __init__(self, api: httpx.AsyncClient, ledger: Ledger, *, deadline: float = 120.0) -> None:
        self.api, self.ledger, self.deadline = api, ledger, deadline

    async def write(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        find: Callable[[], Awaitable[Any]] | None = None,
    ) -> tuple[int, Any]:
        """(status, body) of the write once it ran; status 0 when it is found after an uncertain attempt
        (body: what ``find`` returned). Raises WriteFailed on a 500 or when the deadline passes."""
        give_up = time.monotonic() + self.deadline
        in_doubt = False
        while True:
            if in_doubt and find is not None:
                found = await self._quietly(find)
                if found:
                    self.ledger.outcomes["in doubt, found"] += 1
                    return 0, found
            try:
                response = await self.api.request(
                    method, path, json=json, headers=bearer(token) if token else None
                )
            except httpx.ConnectError:
                self.ledger.outcomes["retry refused"] += 1
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                self.ledger.outcomes[f"retry {type(exc).__name__}"] += 1
                in_doubt = True
            else:
                status = response.status_code
                if status == 500:
                    failure = f"500 on {method} {path}: {response.text[:300]}"
                    self.ledger.failures.append(failure)
                    raise WriteFailed(failure)
                if status in SAFE_TO_RESEND or _unreachable(response):
                    self.ledger.outcomes[f"retry {status}"] += 1
                elif status in (502, 504):
                    self.ledger.outcomes[f"retry {status}"] += 1
                    in_doubt = True
                else:
                    self.ledger.outcomes[f"{kind} {status}"] += 1
                    return status, response.json() if response.content else None
            if time.monotonic() > give_up:
                raise WriteFailed(f"{kind}: {method} {path} not accepted within {self.deadline}s")
            await asyncio.sleep(0.2)  # a client's back-off between attempts

    async def get(self, path: str, token: str, params: dict[str, Any] | None = None) -> Any:
        give_up = time.monotonic() + self.deadline
        while True:
            try:
                response = await self.api.get(path, headers=bearer(token), params=params)
                if response.status_code == 200:
                    return response.json()
                if response.status_code not in (502, 503, 504):
                    raise WriteFailed(f"GET {path}: {response.status_code} {response.text[:200]}")
            except httpx.TransportError:
                pass
            if time.monotonic() > give_up:
                raise WriteFailed(f"GET {path} unanswered within {self.deadline}s")
            await asyncio.sleep(0.2)

    @staticmethod
    async def _quietly(find: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await find()
        except (httpx.TransportError, WriteFailed):
            return None


def _unreachable(response: httpx.Response) -> bool:
    """The gateway could not even connect to the service: the request never reached it."""
    if response.status_code != 502:
        return False
    try:
        return "is unreachable" in str(response.json().get("message", ""))
    except ValueError:
        return False


class Driver:
    """``operations`` seeded operations spread over ``workers`` concurrent clients, each with its users."""

    def __init__(
        self, gateway: str, *, seed: int, operations: int, workers: int = 3, pace: float | None = None
    ) -> None:
        """``pace``: at most that many operations per second in all (None: as fast as answers come)."""
        self.gateway, self.seed, self.operations, self.workers = gateway, seed, operations, workers
        self.pace = pace
        self.run_id = f"{seed}-{secrets.token_hex(3)}"
        self.ledger = Ledger()
        self.done = 0
        self.passwords: set[str] = set()  # every password the driver used (the secrets check looks for them)
        self.tokens: set[str] = set()
        self._admin = ""
        self._manager = ""
        self._stopping = False

    def stop(self) -> None:
        """Let each worker finish the operation it is in, then end (for a load that runs until told)."""
        self._stopping = True

    async def run(self) -> Ledger:
        async with httpx.AsyncClient(base_url=self.gateway, timeout=20) as api:
            client = Client(api, self.ledger)
            self._admin = await self._login(client, ADMIN["email"], ADMIN["password"])
            self._manager = await self._make_manager(client)
            counts = [self.operations // self.workers] * self.workers
            counts[0] += self.operations - sum(counts)
            await asyncio.gather(*(self._worker(client, i, n) for i, n in enumerate(counts)))
        return self.ledger

    async def reached(self, fraction: float) -> bool:
        return self.done >= self.operations * fraction

    # -- setup -----------------------------------------------------------------------------------------

    async def _login(self, client: Client, email: str, password: str) -> str:
        status, body = await client.write(
            "login", "POST", "/api/auth/login", json={"email": email, "password": password}
        )
        assert status == 200, f"login {email}: {status} {body}"
        self.tokens |= {body["token"], body.get("refreshToken") or body["token"]}
        return str(body["token"])

    async def _make_manager(self, client: Client) -> str:
        email, password = f"manager-{self.run_id}@example.com", self._password()
        body = {"email": email, "password": password, "name": "Chaos Manager", "role": "MANAGER"}

        async def find() -> Any:
            return await self._user_by_email(client, email)

        status, created = await client.write(
            "user", "POST", "/api/auth/users", token=self._admin, json=body, find=find
        )
        assert status in (0, 201), f"manager: {status} {created}"
        self.ledger.users[created["id"]] = email
        return await self._login(client, email, password)

    async def _user_by_email(self, client: Client, email: str) -> Any:
        listing = await client.get("/api/auth/users", self._admin, {"q": email})
        return next((u for u in listing["items"] if u["email"] == email), None)

    def _password(self) -> str:
        password = f"Chaos-{secrets.token_urlsafe(9)}-1"
        self.passwords.add(password)
        return password

    # -- the workers -----------------------------------------------------------------------------------

    async def _worker(self, client: Client, index: int, count: int) -> None:
        rng = random.Random(self.seed * 1000 + index)
        actors: list[Actor] = []
        names, weights = zip(*MIX, strict=True)
        started = time.monotonic()
        for n in range(count):
            if self._stopping:
                return
            if self.pace:  # the load's shape, not a wait for a condition
                await asyncio.sleep(max(0.0, started + n * self.workers / self.pace - time.monotonic()))
            op = "register" if not actors else rng.choices(names, weights)[0]
            marker = f"chaos-{self.run_id}-w{index}-{n}"
            await getattr(self, f"_{op}")(client, rng, actors, marker)
            self.done += 1

    async def _register(self, client: Client, rng: random.Random, actors: list[Actor], marker: str) -> None:
        email, password = f"{marker}@example.com", self._password()
        role = rng.choice(["USER", "SALES"])
        body = {"email": email, "password": password, "name": marker, "role": role}
        status, created = await client.write("register", "POST", "/api/auth/register", json=body)
        if status == 409:  # an attempt in doubt had registered it: sign in instead
            token = await self._login(client, email, password)
            user = await self._user_by_email(client, email)
        elif status == 201:
            token, user = created["token"], created["user"]
            self.tokens |= {token, created.get("refreshToken") or token}
        else:
            return
        self.ledger.users[user["id"]] = email
        actors.append(Actor(user["id"], email, password, token))

    async def _customer(self, client: Client, rng: random.Random, actors: list[Actor], marker: str) -> None:
        actor = rng.choice(actors)
        body = {
            "name": marker,
            "industry": rng.choice(["Technology", "Retail", "Finance"]),
            "size": rng.choice(["SMALL", "MEDIUM", "LARGE"]),
            "email": f"{marker}@customer.example.com",
        }
        found = self._finder(client, actor, "/api/customers", "name", marker)
        status, created = await client.write(
            "customer", "POST", "/api/customers", token=actor.token, json=body, find=found
        )
        if status in (0, 201):
            self.ledger.customers[created["id"]] = marker
            actor.customers.append(created["id"])

    async def _meeting(self, client: Client, rng: random.Random, actors: list[Actor], marker: str) -> None:
        actor = rng.choice(actors)
        if not actor.customers:
            return await self._customer(client, rng, actors, marker)
        starts = datetime.now(UTC) + timedelta(days=rng.randint(1, 30))
        body = {"customerId": rng.choice(actor.customers), "title": marker, "startsAt": starts.isoformat()}
        found = self._finder(client, actor, "/api/meetings", "title", marker)
        status, created = await client.write(
            "meeting", "POST", "/api/meetings", token=actor.token, json=body, find=found
        )
        if status in (0, 201):
            self.ledger.meetings[created["id"]] = marker

    async def _task(self, client: Client, rng: random.Random, actors: list[Actor], marker: str) -> None:
        actor = rng.choice(actors)
        if not actor.customers:
            return await self._customer(client, rng, actors, marker)
        body: dict[str, Any] = {"title": marker, "customerId": rng.choice(actor.customers)}
        body["priority"] = rng.choice(["LOW", "MEDIUM", "HIGH", "URGENT"])
        found = self._finder(client, actor, "/api/tasks", "title", marker)
        status, created = await client.write(
            "task", "POST", "/api/tasks", token=actor.token, json=body, find=found
        )
        if status in (0, 201):
            self.ledger.tasks[created["id"]] = marker

    async def _deal(self, client: Client, rng: random.Random, actors: list[Actor], marker: str) -> None:
        actor = rng.choice(actors)
        if not actor.customers:
            return await self._customer(client, rng, actors, marker)
        body = {
            "customerId": rng.choice(actor.customers),
            "name": marker,
            "amount": f"{rng.randint(1, 5000) * 1000}.00",
            "currency": "JPY",
        }
        found = self._finder(client, actor, "/api/opportunities", "name", marker)
        status, created = await client.write(
            "deal", "POST", "/api/opportunities", token=actor.token, json=body, find=found
        )
        if status in (0, 201):
            self.ledger.deals[created["id"]] = marker
            actor.deals.append(created["id"])

    async def _approval(self, client: Client, rng: random.Random, actors: list[Actor], marker: str) -> None:
        actor = rng.choice(actors)
        if not actor.deals:
            return await self._deal(client, rng, actors, marker)
        body = {"opportunityId": rng.choice(actor.deals), "title": marker}

        async def find() -> Any:
            listing = await client.get(
                "/api/approvals", actor.token, {"opportunityId": body["opportunityId"]}
            )
            return next((a for a in listing["items"] if a["title"] == marker), None)

        status, created = await client.write(
            "approval", "POST", "/api/approvals", token=actor.token, json=body, find=find
        )
        if status in (0, 201):
            self.ledger.approvals[created["id"]] = marker

    async def _decide(self, client: Client, rng: random.Random, actors: list[Actor], marker: str) -> None:
        pending = await client.get("/api/approvals/pending", self._manager, {"limit": 50})
        mine = [a for a in pending["items"] if a["id"] in self.ledger.approvals]
        if not mine:
            return await self._approval(client, rng, actors, marker)
        approval = rng.choice(mine)
        verdict = rng.choice(["approve", "reject"])
        expected = "APPROVED" if verdict == "approve" else "REJECTED"

        async def find() -> Any:
            now = await client.get(f"/api/approvals/{approval['id']}", self._manager)
            return now if now["status"] == expected else None

        status, _ = await client.write(
            "decide",
            "POST",
            f"/api/approvals/{approval['id']}/{verdict}",
            token=self._manager,
            json={"comment": marker},
            find=find,
        )
        if status in (0, 200):
            self.ledger.decisions[approval["id"]] = expected

    async def _delete_customer(
        self, client: Client, rng: random.Random, actors: list[Actor], marker: str
    ) -> None:
        owners = [a for a in actors if len(a.customers) > 1]
        if not owners:
            return await self._customer(client, rng, actors, marker)
        actor = rng.choice(owners)
        customer = actor.customers.pop(rng.randrange(len(actor.customers)))
        status, _ = await client.write(
            "delete_customer", "DELETE", f"/api/customers/{customer}", token=actor.token
        )
        if status in (204, 404):  # 404: an attempt in doubt had deleted it
            self.ledger.deleted_customers.add(customer)

    async def _delete_user(
        self, client: Client, rng: random.Random, actors: list[Actor], marker: str
    ) -> None:
        if len(actors) < 3:
            return await self._register(client, rng, actors, marker)
        actor = actors.pop(rng.randrange(len(actors)))
        status, _ = await client.write(
            "delete_user", "DELETE", f"/api/auth/users/{actor.id}", token=self._admin
        )
        if status in (204, 404):
            self.ledger.deleted_users.add(actor.id)

    def _finder(
        self, client: Client, actor: Actor, path: str, field_name: str, marker: str
    ) -> Callable[[], Awaitable[Any]]:
        async def find() -> Any:
            listing = await client.get(path, actor.token, {"q": marker})
            return next((x for x in listing["items"] if x[field_name] == marker), None)

        return find
