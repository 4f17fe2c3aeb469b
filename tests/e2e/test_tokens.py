"""Tokens and accounts through the gateway of the embedded CRM: bad tokens refused by the services behind it,
logout and refresh-token reuse refused everywhere within a second, key rotation without downtime, login
throttling, API keys, and no secret in any log line or response but the one that hands it out."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import orjson
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select
from typer.testing import CliRunner

from crm.cli import app as cli
from crm.modes.tokens import revocation_of
from crm.platform.keys import new_signing_key
from crm.platform.revocations import RevocationFeed, RevocationList
from crm.platform.security import Principal, Tokens
from crm.services.auth.models import SigningKeyRow, User
from tests.support.embedded import ADMIN_PASSWORD, bearer, login, register, running_embedded, token_for
from tests.support.waiting import eventually


@pytest.fixture
async def crm(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with running_embedded(tmp_path) as running:
        yield running


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()


async def customers(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/customers", headers=bearer(token))


async def refused_within_a_second(client: httpx.AsyncClient, token: str) -> float:
    """Seconds until customer-service, through the gateway, refuses ``token`` (fails past one second)."""
    started = time.monotonic()

    async def refused() -> bool:
        return (await customers(client, token)).status_code == 401

    await eventually(refused, timeout=1.0, interval=0.005, what="the token refused by customer-service")
    return time.monotonic() - started


async def test_customer_service_refuses_every_kind_of_bad_token(crm) -> None:  # type: ignore[no-untyped-def]
    live, client = crm
    good = (await register(client, "holder@example.com"))["token"]
    assert (await customers(client, good)).status_code == 200
    key = live.runtimes["auth"].tokens.keyring.current()
    claims = claims_of(good)
    header, payload, signature = good.split(".")
    public = key.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    bad = {
        "malformed": "not-a-jwt",
        "expired": jwt.encode(
            {**claims, "iat": claims["iat"] - 7200, "exp": claims["iat"] - 3600},
            key.private_key,
            algorithm="EdDSA",
            headers={"kid": key.kid},
        ),
        "wrong signature": jwt.encode(
            claims, new_signing_key().private_key, algorithm="EdDSA", headers={"kid": key.kid}
        ),
        "claims tampered": f"{header}.{b64({**claims, 'role': 'ADMIN'})}.{signature}",
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "HS256 keyed with the public key": jwt.encode(
            claims, public, algorithm="HS256", headers={"kid": key.kid}
        ),
        "HS256 with a guessed secret": Tokens("s" * 40).issue(user_id="x", email="x@x.x", role="ADMIN"),
        "unknown kid": jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": "no-such-key"}),
    }
    for case, token in bad.items():
        response = await customers(client, token)
        assert response.status_code == 401, (case, response.text)
    assert (await client.get("/api/customers")).status_code == 401, "missing"
    for header_value in ("Bearer", "Bearer ", "Basic dXNlcjpwYXNz", good):
        assert (
            await client.get("/api/customers", headers={"Authorization": header_value})
        ).status_code == 401


async def test_logout_is_refused_by_customer_service_and_every_other_process_within_a_second(crm) -> None:  # type: ignore[no-untyped-def]
    live, client = crm
    session = await register(client, "leaving@example.com")
    token = session["token"]
    assert (await customers(client, token)).status_code == 200
    # Another process of the deployment: its own revocation list, fed only by tailing the bus.
    elsewhere = RevocationList(live.security.revocations.window)
    feed = RevocationFeed(live.bus, ["user.events"], revocation_of, elsewhere, logging.getLogger("test"))
    await feed.start()
    try:
        await eventually(lambda: _true(feed.live.is_set()), what="the other process caught up")
        principal = Principal(
            id=session["user"]["id"], email="", role="USER", token_id=claims_of(token)["jti"]
        )
        assert not elsewhere.is_revoked(principal)
        started = time.monotonic()
        assert (await client.post("/api/auth/logout", headers=bearer(token))).status_code == 204
        assert await refused_within_a_second(client, token) < 1.0
        refusal = await customers(client, token)
        assert refusal.json()["message"] == "Token revoked"
        await eventually(
            lambda: _true(elsewhere.is_revoked(principal)), timeout=1.0, interval=0.005, what="the bus"
        )
        assert time.monotonic() - started < 1.0
    finally:
        await feed.stop()
    again = await client.post("/api/auth/refresh", json={"refreshToken": session["refreshToken"]})
    assert again.status_code == 401, "logout also ends the refresh tokens"


async def _true(value: bool) -> bool:
    return value


async def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_session(crm) -> None:  # type: ignore[no-untyped-def]
    _live, client = crm
    first = await register(client, "rotating@example.com")
    assert first["expiresIn"] == 900 and first["refreshExpiresIn"] == 30 * 24 * 3600
    second = (await client.post("/api/auth/refresh", json={"refreshToken": first["refreshToken"]})).json()
    assert second["refreshToken"] != first["refreshToken"] and second["token"] != first["token"]
    assert second["user"]["email"] == "rotating@example.com"
    assert (await customers(client, second["token"])).status_code == 200
    third = (await client.post("/api/auth/refresh", json={"refreshToken": second["refreshToken"]})).json()
    assert (await customers(client, third["token"])).status_code == 200

    # Someone replays the first refresh token: the whole family goes, access tokens included.
    replay = await client.post("/api/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert replay.status_code == 401 and "revoked" in replay.json()["message"]
    for session in (second, third):
        assert await refused_within_a_second(client, session["token"]) < 1.0
    latest = await client.post("/api/auth/refresh", json={"refreshToken": third["refreshToken"]})
    assert latest.status_code == 401
    assert (await client.post("/api/auth/refresh", json={"refreshToken": "made-up"})).status_code == 401

    admin = bearer((await login(client))["token"])
    log = (
        await client.get("/api/auth/audit", headers=admin, params={"action": "REFRESH_TOKEN_REUSED"})
    ).json()
    (event,) = log["items"]
    assert event["targetId"] == first["user"]["id"] and event["detail"]["revokedAccessTokens"] >= 2


async def test_refresh_brings_the_new_role_and_a_deleted_users_tokens_are_refused(crm) -> None:  # type: ignore[no-untyped-def]
    _live, client = crm
    admin = bearer((await login(client))["token"])
    rep = await register(client, "promoted@example.com", role="SALES")
    patched = await client.patch(
        f"/api/auth/users/{rep['user']['id']}", headers=admin, json={"role": "MANAGER"}
    )
    assert patched.status_code == 200
    refreshed = (await client.post("/api/auth/refresh", json={"refreshToken": rep["refreshToken"]})).json()
    assert claims_of(refreshed["token"])["role"] == "MANAGER"

    assert (await client.delete(f"/api/auth/users/{rep['user']['id']}", headers=admin)).status_code == 204
    assert await refused_within_a_second(client, refreshed["token"]) < 1.0
    gone = await client.post("/api/auth/refresh", json={"refreshToken": refreshed["refreshToken"]})
    assert gone.status_code == 401


async def test_a_key_rotation_keeps_every_issued_token_valid(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    live, client = crm
    before = (await register(client, "across@example.com"))["token"]
    old_kid = jwt.get_unverified_header(before)["kid"]

    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["auth", "rotate-key", "--grace", "0"], env={"CRM_DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code == 0, result.output
    store = live.runtimes["auth"].tokens.keyring
    await store.reload()  # what the auth instance's reload job does every few seconds

    after = await client.post(
        "/api/auth/login", json={"email": "across@example.com", "password": "Password123!"}
    )
    new_kid = jwt.get_unverified_header(after.json()["token"])["kid"]
    assert new_kid != old_kid and new_kid in result.output
    for token in (before, after.json()["token"]):
        assert (await customers(client, token)).status_code == 200, "no token is refused across a rotation"
    published = (await client.get("/api/auth/.well-known/jwks.json")).json()["keys"]
    assert {k["kid"] for k in published} == {old_kid, new_kid}
    assert all(set(k) == {"kty", "crv", "x", "kid", "alg", "use"} for k in published), "public parts only"


async def test_failed_logins_are_throttled_per_account_then_per_ip(crm) -> None:  # type: ignore[no-untyped-def]
    _live, client = crm
    await register(client, "target@example.com")
    await register(client, "bystander@example.com")
    for _ in range(5):
        wrong = await client.post(
            "/api/auth/login", json={"email": "target@example.com", "password": "guess-123"}
        )
        assert wrong.status_code == 401
    locked = await client.post(
        "/api/auth/login", json={"email": "target@example.com", "password": "Password123!"}
    )
    assert locked.status_code == 429, "even the right password waits: the lock is on the account"
    assert 1 <= int(locked.headers["Retry-After"]) <= 15 * 60
    assert "password" not in locked.json()["message"].lower()
    # an account that does not exist is locked alike: the answer says nothing about which accounts exist
    for _ in range(5):
        await client.post("/api/auth/login", json={"email": "nobody@example.com", "password": "guess-123"})
    assert (
        await client.post("/api/auth/login", json={"email": "nobody@example.com", "password": "guess-123"})
    ).status_code == 429
    # others log in from the same address until it reaches its own limit (20 failures)
    assert (
        await client.post(
            "/api/auth/login", json={"email": "bystander@example.com", "password": "Password123!"}
        )
    ).status_code == 200
    for n in range(10):
        await client.post("/api/auth/login", json={"email": f"spray{n}@example.com", "password": "guess-123"})
    blocked = await client.post(
        "/api/auth/login", json={"email": "bystander@example.com", "password": "Password123!"}
    )
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1

    admin = bearer(token_for(_live, "ADMIN")[1])
    log = (await client.get("/api/auth/audit", headers=admin, params={"action": "LOGIN_THROTTLED"})).json()
    assert {e["actorEmail"] for e in log["items"]} >= {"target@example.com", "bystander@example.com"}


async def test_login_never_says_which_part_was_wrong(crm) -> None:  # type: ignore[no-untyped-def]
    _live, client = crm
    await register(client, "known@example.com")
    answers = []
    for email, password in (("known@example.com", "wrong-password"), ("unknown@example.com", "Password123!")):
        response = await client.post("/api/auth/login", json={"email": email, "password": password})
        body = response.json()
        answers.append((response.status_code, body["error"], body["message"], body.get("fields")))
    assert answers[0] == answers[1] == (401, "unauthorized", "Invalid email or password", None)


async def test_self_registration_never_grants_a_privileged_role(crm) -> None:  # type: ignore[no-untyped-def]
    _live, client = crm
    for role in ("ADMIN", "MANAGER", "COMPLIANCE"):
        email = f"climber-{role.lower()}@example.com"
        response = await client.post(
            "/api/auth/register", json={"email": email, "password": "Password123!", "name": "C", "role": role}
        )
        assert response.status_code == 403 and "role" in response.json()["fields"], role
        assert (
            await client.post("/api/auth/login", json={"email": email, "password": "Password123!"})
        ).status_code == 401, "no account was made"
    for role in ("USER", "SALES"):
        assert (await register(client, f"fine-{role.lower()}@example.com", role=role))["user"]["role"] == role


async def test_an_api_key_lifecycle(crm) -> None:  # type: ignore[no-untyped-def]
    live, client = crm
    admin = bearer((await login(client))["token"])
    created = await client.post(
        "/api/auth/api-keys", headers=admin, json={"name": "ERP sync", "role": "MANAGER"}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    key = body["key"]
    assert (
        key.startswith(f"crm_{body['prefix']}_") and body["role"] == "MANAGER" and body["revokedAt"] is None
    )

    listing = await client.get("/api/auth/api-keys", headers=admin)
    assert listing.status_code == 200 and [k["id"] for k in listing.json()["items"]] == [body["id"]]
    assert key not in listing.text and "key" not in listing.json()["items"][0], "the secret is shown once"

    exchanged = await client.post("/api/auth/token", json={"apiKey": key})
    assert exchanged.status_code == 200, exchanged.text
    token = exchanged.json()["token"]
    claims = claims_of(token)
    assert (claims["sub"], claims["role"], claims["typ"]) == (body["id"], "MANAGER", "api_key")
    assert exchanged.json()["expiresIn"] == 900
    assert (await customers(client, token)).status_code == 200
    by_header = await client.post("/api/auth/token", headers={"X-API-Key": key})
    assert by_header.status_code == 200
    used = (await client.get("/api/auth/api-keys", headers=admin)).json()["items"][0]
    assert used["lastUsedAt"] is not None

    assert (await client.post("/api/auth/token", json={"apiKey": key[:-1] + "x"})).status_code == 401
    assert (await client.post("/api/auth/token")).status_code == 401
    _, sales = token_for(live, "SALES")
    assert (
        await client.post("/api/auth/api-keys", headers=bearer(sales), json={"name": "x", "role": "ADMIN"})
    ).status_code == 403

    assert (await client.delete(f"/api/auth/api-keys/{body['id']}", headers=admin)).status_code == 204
    assert (await client.post("/api/auth/token", json={"apiKey": key})).status_code == 401, "stops at once"
    assert await refused_within_a_second(client, token) < 1.0, "and the tokens it obtained with it"
    assert await refused_within_a_second(client, by_header.json()["token"]) < 1.0
    listed = (await client.get("/api/auth/api-keys", headers=admin)).json()["items"][0]
    assert listed["revokedAt"] is not None
    assert (await client.delete(f"/api/auth/api-keys/{body['id']}", headers=admin)).status_code == 204
    assert (await client.delete("/api/auth/api-keys/no-such-key", headers=admin)).status_code == 404

    audit = (await client.get("/api/auth/audit", headers=admin, params={"limit": 200})).json()["items"]
    steps = [e["action"] for e in audit if e["targetId"] == body["id"] or e["action"] == "API_KEYS_LISTED"]
    for step in ("API_KEY_CREATED", "API_KEYS_LISTED", "API_KEY_USED", "API_KEY_REFUSED", "API_KEY_REVOKED"):
        assert step in steps, step


async def test_no_secret_appears_in_a_log_line_or_a_response_but_the_one_handing_it_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="crm")
    responses: list[tuple[str, str]] = []
    async with running_embedded(tmp_path) as (live, client):

        async def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
            response = await client.request(method, path, **kwargs)
            responses.append((f"{method} {path}", response.text))
            return response

        registered = (
            await call(
                "POST",
                "/api/auth/register",
                json={"email": "secretive@example.com", "password": "Sup3r-Secret-Pass", "name": "S"},
            )
        ).json()
        await call(
            "POST", "/api/auth/login", json={"email": "secretive@example.com", "password": "wrong-pass-1"}
        )
        logged_in = (
            await call(
                "POST",
                "/api/auth/login",
                json={"email": "secretive@example.com", "password": "Sup3r-Secret-Pass"},
            )
        ).json()
        refreshed = (
            await call("POST", "/api/auth/refresh", json={"refreshToken": logged_in["refreshToken"]})
        ).json()
        await call("POST", "/api/auth/refresh", json={"refreshToken": logged_in["refreshToken"]})  # reuse
        admin = (
            await call(
                "POST", "/api/auth/login", json={"email": "admin@example.com", "password": ADMIN_PASSWORD}
            )
        ).json()
        created = (
            await call(
                "POST",
                "/api/auth/api-keys",
                headers=bearer(admin["token"]),
                json={"name": "hooks", "role": "USER"},
            )
        ).json()
        await call("GET", "/api/auth/api-keys", headers=bearer(admin["token"]))
        exchanged = (await call("POST", "/api/auth/token", headers={"X-API-Key": created["key"]})).json()
        await call("POST", "/api/auth/token", json={"apiKey": created["key"] + "0"})
        await call("GET", "/api/customers", headers=bearer(exchanged["token"]))
        await call("GET", "/api/auth/audit", headers=bearer(admin["token"]), params={"limit": 500})
        await call("GET", "/api/auth/users", headers=bearer(admin["token"]))
        await call("GET", "/api/auth/.well-known/jwks.json")
        await call("GET", "/health")
        await call("POST", "/api/auth/logout", headers=bearer(registered["token"]))
        await call("GET", "/api/customers", headers=bearer(registered["token"]))
        async with live.runtimes["auth"].db.sessions() as session:
            pems = (await session.scalars(select(SigningKeyRow.private_key_pem))).all()
            hashes = (await session.scalars(select(User.password_hash))).all()

    handed_out = {
        "Sup3r-Secret-Pass": None,
        ADMIN_PASSWORD: None,
        registered["token"]: "POST /api/auth/register",
        registered["refreshToken"]: "POST /api/auth/register",
        logged_in["token"]: "POST /api/auth/login",
        logged_in["refreshToken"]: "POST /api/auth/login",
        refreshed["token"]: "POST /api/auth/refresh",
        refreshed["refreshToken"]: "POST /api/auth/refresh",
        created["key"]: "POST /api/auth/api-keys",
        exchanged["token"]: "POST /api/auth/token",
        **{pem: None for pem in pems},
        **{h: None for h in hashes},
        **{pem.splitlines()[1]: None for pem in pems},  # the key material itself, whatever the framing
        **{h.rsplit("$", 1)[-1]: None for h in hashes},
    }
    lines = [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    assert any("Event published" in line for line in lines), "the capture saw the services' logs"
    for secret, where in handed_out.items():
        assert len(secret) >= 8
        assert not [line for line in lines if secret in line], f"a secret in the logs: {secret[:12]}…"
        holders = {name for name, text in responses if secret in text}
        assert holders <= ({where} if where else set()), f"{secret[:12]}… leaked in {holders}"


async def test_with_jwt_secret_set_tokens_are_hs256_and_revoked_alike(tmp_path: Path) -> None:
    async with running_embedded(tmp_path, JWT_SECRET="h" * 40) as (_live, client):
        body = await register(client, "shared@example.com")
        assert jwt.get_unverified_header(body["token"]) == {"alg": "HS256", "typ": "JWT"}
        assert (await client.get("/api/auth/.well-known/jwks.json")).json() == {"keys": []}, "nothing public"
        assert (await customers(client, body["token"])).status_code == 200
        eddsa = jwt.encode(claims_of(body["token"]), new_signing_key().private_key, algorithm="EdDSA")
        assert (await customers(client, eddsa)).status_code == 401, "only HS256 where JWT_SECRET is set"
        assert (await client.post("/api/auth/logout", headers=bearer(body["token"]))).status_code == 204
        assert await refused_within_a_second(client, body["token"]) < 1.0
