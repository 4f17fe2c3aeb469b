"""Access tokens, checked by the one verifier every service and the gateway use: what it refuses (and says),
key rotation without downtime, public keys fetched over HTTP, and the revocation list fed from the bus."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import orjson
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from crm.contracts import EventType, make_event
from crm.contracts.payloads.users import TokenRevoked, UserDeleted
from crm.modes.tokens import revocation_of
from crm.platform.bus import OutgoingRecord
from crm.platform.bus.local_log import LocalLogBus
from crm.platform.db import Database
from crm.platform.keys import (
    JWKS_PATH,
    EdDsaTokens,
    RemoteJwks,
    SigningKey,
    jwks_of,
    new_signing_key,
    public_keys_of,
    signing_key_at,
)
from crm.platform.revocations import Revocation, RevocationFeed, RevocationList
from crm.platform.security import (
    JwtVerifier,
    Principal,
    SharedSecret,
    TokenError,
    Tokens,
)
from crm.services.auth.app import SPEC as AUTH
from crm.services.auth.keys import SigningKeyStore, rotate

TTL = timedelta(minutes=15)
LOG = logging.getLogger("tests.tokens")


class Keyring:
    """auth's keyring without a database: the keys given, the same rules."""

    algorithm = "EdDSA"

    def __init__(self, *keys: SigningKey) -> None:
        self.keys = list(keys)

    def current(self) -> SigningKey:
        key = signing_key_at(self.keys, datetime.now(UTC))
        assert key is not None
        return key

    def jwks(self) -> dict[str, Any]:
        return jwks_of(self.keys, datetime.now(UTC), TTL)

    async def key(self, kid: str | None) -> Any:
        return public_keys_of(self.jwks()).get(kid or "")


def eddsa() -> tuple[EdDsaTokens, JwtVerifier, Keyring]:
    keyring = Keyring(new_signing_key())
    return EdDsaTokens(keyring), JwtVerifier(keyring), keyring


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()


async def refused(verifier: JwtVerifier, token: str) -> str:
    with pytest.raises(TokenError) as caught:
        await verifier.verify(token)
    return str(caught.value)


async def test_an_eddsa_token_names_its_key_and_carries_the_caller() -> None:
    tokens, verifier, keyring = eddsa()
    token = tokens.issue_token(user_id="u1", email="a@b.c", role="SALES", name="A", session_id="s1").token
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": keyring.keys[0].kid, "typ": "JWT"}
    principal = await verifier.verify(token)
    assert (principal.id, principal.email, principal.role, principal.session_id) == (
        "u1",
        "a@b.c",
        "SALES",
        "s1",
    )
    assert principal.expires_at is not None and principal.issued_at is not None
    assert principal.expires_at - principal.issued_at == TTL


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "a.b", "e30.e30.", "Bearer x", "ey" * 40])
async def test_malformed_tokens_are_refused(garbage: str) -> None:
    _tokens, verifier, _ = eddsa()
    assert await refused(verifier, garbage) == "invalid token"


async def test_an_expired_token_is_refused() -> None:
    tokens, verifier, keyring = eddsa()
    claims = claims_of(tokens.issue(user_id="u1", email="a@b.c", role="USER"))
    key = keyring.keys[0]
    old = {**claims, "iat": claims["iat"] - 3600, "exp": claims["iat"] - 60}
    expired = jwt.encode(old, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})
    assert await refused(verifier, expired) == "token expired"


async def test_a_token_signed_by_another_key_is_refused_even_under_our_kid() -> None:
    tokens, verifier, keyring = eddsa()
    claims = claims_of(tokens.issue(user_id="u1", email="a@b.c", role="USER"))
    stranger = new_signing_key()
    forged = jwt.encode(claims, stranger.private_key, algorithm="EdDSA", headers={"kid": keyring.keys[0].kid})
    assert await refused(verifier, forged) == "invalid token"


async def test_tampered_claims_are_refused() -> None:
    tokens, verifier, _ = eddsa()
    header, payload, signature = tokens.issue(user_id="u1", email="a@b.c", role="USER").split(".")
    promoted = b64({**claims_of(f"{header}.{payload}.{signature}"), "role": "ADMIN"})
    assert await refused(verifier, f"{header}.{promoted}.{signature}") == "invalid token"
    assert await refused(verifier, f"{header}.{payload}.{signature[:-4]}AAAA") == "invalid token"


async def test_alg_none_is_refused() -> None:
    tokens, verifier, keyring = eddsa()
    claims = claims_of(tokens.issue(user_id="u1", email="a@b.c", role="ADMIN"))
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": keyring.keys[0].kid})
    assert await refused(verifier, unsigned) == "invalid token"
    handmade = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': keyring.keys[0].kid})}.{b64(claims)}."
    assert await refused(verifier, handmade) == "invalid token"


async def test_an_hs256_token_keyed_with_the_public_key_is_refused() -> None:
    """Algorithm confusion: an attacker signs with HMAC using the *public* key as the secret."""
    tokens, verifier, keyring = eddsa()
    claims = claims_of(tokens.issue(user_id="u1", email="a@b.c", role="ADMIN"))
    public = keyring.keys[0].public_key
    candidates = [
        public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        orjson.dumps(keyring.jwks()["keys"][0]),
    ]
    for secret in candidates:
        header = {"alg": "HS256", "typ": "JWT", "kid": keyring.keys[0].kid}
        signing = f"{b64(header)}.{b64(claims)}".encode()
        mac = base64.urlsafe_b64encode(hmac.new(secret, signing, hashlib.sha256).digest()).rstrip(b"=")
        assert await refused(verifier, f"{signing.decode()}.{mac.decode()}") == "invalid token"


async def test_an_eddsa_token_is_refused_by_an_hs256_deployment() -> None:
    tokens, _verifier, _ = eddsa()
    shared = JwtVerifier(SharedSecret("s" * 40))
    assert await refused(shared, tokens.issue(user_id="u1", email="a@b.c", role="USER")) == "invalid token"
    hs256 = Tokens("s" * 40)
    assert (await shared.verify(hs256.issue(user_id="u1", email="a@b.c", role="USER"))).id == "u1"


async def test_an_unknown_kid_is_refused_and_reloads_the_keys_at_most_every_30_seconds() -> None:
    from crm.platform.keys import CachedKeys

    tokens, _verifier, keyring = eddsa()
    loads = 0

    async def load() -> dict[str, Any]:
        nonlocal loads
        loads += 1
        return public_keys_of(keyring.jwks())

    cached = CachedKeys(load, interval=30.0)
    verifier = JwtVerifier(cached)
    assert (await verifier.verify(tokens.issue(user_id="u1", email="a@b.c", role="USER"))).id == "u1"
    assert loads == 1
    claims = claims_of(tokens.issue(user_id="u1", email="a@b.c", role="USER"))
    stranger = new_signing_key()
    forged = jwt.encode(claims, stranger.private_key, algorithm="EdDSA", headers={"kid": "forged"})
    for _ in range(20):  # a flood of forged kids right after a load costs nothing
        assert await refused(verifier, forged) == "unknown signing key"
    assert loads == 1
    cached._last_attempt -= 30  # thirty seconds later
    for _ in range(20):  # one reload, then nothing again for thirty seconds
        assert await refused(verifier, forged) == "unknown signing key"
    assert loads == 2
    no_kid = jwt.encode(claims, keyring.keys[0].private_key, algorithm="EdDSA")
    assert await refused(verifier, no_kid) == "unknown signing key"


class FlakyAuth:
    """auth's JWKS as a verifier fetches it: down (the fetch fails), up publishing no key, or up with keys."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring, self.state, self.loads = keyring, "down", 0

    async def load(self) -> dict[str, Any]:
        self.loads += 1
        if self.state == "down":
            raise ConnectionRefusedError("auth is not listening yet")
        return {} if self.state == "empty" else public_keys_of(self.keyring.jwks())


async def test_a_service_started_before_auth_accepts_tokens_as_soon_as_auth_answers() -> None:
    from crm.platform.keys import CachedKeys

    tokens, _verifier, keyring = eddsa()
    auth = FlakyAuth(keyring)
    cached = CachedKeys(auth.load, interval=30.0, retry=0.05, first_wait=5.0)
    assert not await cached.refresh(), "the start-up fetch: auth is not up"
    token = tokens.issue(user_id="u1", email="a@b.c", role="USER")
    verifying = asyncio.ensure_future(JwtVerifier(cached).verify(token))
    await asyncio.sleep(0.2)
    assert not verifying.done(), "a request waits for the first keys rather than being refused"
    auth.state = "up"  # auth answers: the waiting request fetches the keys itself, not in 30 s
    assert (await asyncio.wait_for(verifying, 2)).id == "u1"


async def test_after_a_failed_or_empty_fetch_a_new_key_is_fetched_at_once_not_after_30_seconds() -> None:
    from crm.platform.keys import CachedKeys

    tokens, _verifier, keyring = eddsa()
    auth = FlakyAuth(keyring)
    auth.state = "empty"  # answering, but publishing no key yet
    cached = CachedKeys(auth.load, interval=30.0, retry=0.05, first_wait=0.0)
    verifier = JwtVerifier(cached)
    assert await cached.refresh() and cached.keys == {}
    auth.state = "up"
    await asyncio.sleep(0.06)  # the short retry floor, not the 30-second one
    assert (await verifier.verify(tokens.issue(user_id="u1", email="a@b.c", role="USER"))).id == "u1"

    # Keys known, then a refresh fails (auth briefly unreachable) while auth rotates in a new key.
    auth.state = "down"
    assert not await cached.refresh()
    keyring.keys.insert(0, new_signing_key(datetime.now(UTC) - timedelta(days=1)))  # signs from now on
    auth.state = "up"
    rotated = tokens.issue(user_id="u2", email="b@b.c", role="USER")
    assert jwt.get_unverified_header(rotated)["kid"] not in cached.keys
    await asyncio.sleep(0.06)
    assert (await verifier.verify(rotated)).id == "u2"
    loads = auth.loads
    forged = jwt.encode(
        claims_of(rotated), new_signing_key().private_key, algorithm="EdDSA", headers={"kid": "forged"}
    )
    await asyncio.sleep(0.06)
    assert await refused(verifier, forged) == "unknown signing key"
    assert auth.loads == loads, "keys loaded: an unknown kid waits the 30-second floor again"


def test_rotation_publishes_the_next_key_before_it_signs_and_the_old_one_until_its_tokens_expire() -> None:
    t0 = datetime(2030, 1, 1, tzinfo=UTC)
    grace = timedelta(seconds=60)
    old = SigningKey("old", new_signing_key().private_key, t0 - timedelta(days=3), retired_at=t0 + grace)
    new = SigningKey("new", new_signing_key().private_key, t0)
    keys = [new, old]

    def published(at: datetime) -> set[str]:
        return {k["kid"] for k in jwks_of(keys, at, TTL)["keys"]}

    assert signing_key_at(keys, t0).kid == "old", "the new key waits while verifiers learn it"  # type: ignore[union-attr]
    assert published(t0) == {"old", "new"}
    assert signing_key_at(keys, t0 + grace + timedelta(seconds=1)).kid == "new"  # type: ignore[union-attr]
    # the last token of the old key was signed just before t0 + grace: it lives TTL more (plus the leeway)
    assert published(t0 + grace + TTL) == {"old", "new"}
    assert published(t0 + grace + TTL + timedelta(seconds=6)) == {"new"}


async def test_a_token_signed_before_a_rotation_verifies_after_it(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'auth.sqlite3'}")
    await db.migrate(AUTH.migrations, lock_name="auth")
    store = SigningKeyStore(TTL)
    first = await store.open(db)
    assert first is not None and await store.open(db) is None, "made once, then found"
    tokens, verifier = EdDsaTokens(store), JwtVerifier(store)
    before = tokens.issue(user_id="u1", email="a@b.c", role="USER")

    new_key = (await rotate(db, TTL, grace=timedelta(0))).key
    # another auth instance (or a service of the embedded CRM) meets the new kid before its next reload
    other = SigningKeyStore(TTL)
    await other.open(db)
    await store.reload()
    after = tokens.issue(user_id="u1", email="a@b.c", role="USER")
    assert jwt.get_unverified_header(after)["kid"] == new_key.kid != first.kid
    for token in (before, after):
        assert (await verifier.verify(token)).id == "u1"
        assert (await JwtVerifier(other).verify(token)).id == "u1"
    assert {k["kid"] for k in store.jwks()["keys"]} == {first.kid, new_key.kid}
    assert all("d" not in k for k in store.jwks()["keys"]), "never the private part"
    await db.dispose()


@pytest.fixture
async def jwks_server() -> AsyncIterator[tuple[str, Keyring, list[float]]]:
    """A JWKS endpoint over real HTTP, serving a keyring the test changes; records when it was asked."""
    keyring, hits = Keyring(new_signing_key()), []

    async def serve(_request: web.Request) -> web.Response:
        hits.append(time.monotonic())
        return web.json_response(keyring.jwks())

    app = web.Application()
    app.router.add_get(JWKS_PATH, serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}{JWKS_PATH}", keyring, hits
    await runner.cleanup()


async def test_a_service_verifies_with_public_keys_fetched_over_http(jwks_server) -> None:  # type: ignore[no-untyped-def]
    url, keyring, hits = jwks_server
    jwks = RemoteJwks(url, LOG)
    await jwks.start()
    try:
        verifier = JwtVerifier(jwks)
        token = EdDsaTokens(keyring).issue(user_id="u1", email="a@b.c", role="USER")
        assert (await verifier.verify(token)).id == "u1"
        assert jwks.status() == {"publicKeys": 1}
        # auth rotates: the new key is published before it signs, so the first token naming it refreshes
        keyring.keys.append(new_signing_key())
        keyring.keys[0] = SigningKey(
            keyring.keys[0].kid,
            keyring.keys[0].private_key,
            keyring.keys[0].created_at,
            retired_at=datetime.now(UTC),
        )
        jwks._last_attempt = float("-inf")  # the previous fetch is older than the 30-second floor
        rotated = EdDsaTokens(keyring).issue(user_id="u2", email="b@b.c", role="USER")
        assert (await verifier.verify(rotated)).id == "u2"
        assert (await verifier.verify(token)).id == "u1", "the old key still verifies its tokens"
        fetched = len(hits)
        for _ in range(5):
            await refused(
                verifier,
                jwt.encode(
                    {"sub": "x"}, keyring.keys[1].private_key, algorithm="EdDSA", headers={"kid": "unknown"}
                ),
            )
        assert len(hits) == fetched, "unknown kids within 30 s of the last fetch do not reach auth"
    finally:
        await jwks.stop()


async def test_the_first_fetch_retries_until_auth_answers(jwks_server) -> None:  # type: ignore[no-untyped-def]
    url, _keyring, _hits = jwks_server
    down = RemoteJwks("http://127.0.0.1:9/nothing", LOG)
    assert not await down.refresh()
    assert down.status()["publicKeys"].startswith("not loaded")
    await down.stop()
    up = RemoteJwks(url, LOG)
    await up.start()
    try:
        for _ in range(100):
            if up.loaded:
                break
            await asyncio.sleep(0.02)
        assert up.loaded
    finally:
        await up.stop()


def principal(jti: str = "t1", subject: str = "u1", issued: datetime | None = None) -> Principal:
    return Principal(id=subject, email="", role="USER", token_id=jti, issued_at=issued or datetime.now(UTC))


def test_the_revocation_list_refuses_a_token_and_a_subjects_older_tokens() -> None:
    revocations = RevocationList(TTL)
    now = datetime.now(UTC)
    revocations.add(Revocation.token("t1", now + TTL))
    assert revocations.is_revoked(principal("t1")) and not revocations.is_revoked(principal("t2"))
    revocations.add(Revocation.of_subject("gone", now))
    assert revocations.is_revoked(principal("t3", "gone", now - timedelta(minutes=5)))
    assert not revocations.is_revoked(principal("t4", "gone", now + timedelta(minutes=1)))
    revocations.prune((now + TTL + timedelta(minutes=1)).timestamp())
    assert len(revocations) == 0, "forgotten once the tokens they refuse have expired"


async def test_every_tail_of_the_local_bus_sees_every_revocation_within_a_second(tmp_path: Path) -> None:
    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    now = datetime.now(UTC)
    early = make_event(
        EventType.TOKEN_REVOKED,
        TokenRevoked(token_id="before-start", user_id="u1", expires_at=now + TTL),
        subject="u1",
        source="test",
    )
    await bus.publish([OutgoingRecord(early.topic, b"u1", early.to_json(), early.headers())])
    lists = [RevocationList(TTL), RevocationList(TTL)]  # two processes
    feeds = [RevocationFeed(bus, ["user.events"], revocation_of, r, LOG) for r in lists]
    for feed in feeds:
        await feed.start()
    try:
        late = make_event(
            EventType.TOKEN_REVOKED,
            TokenRevoked(token_id="t-logout", user_id="u1", expires_at=now + TTL),
            subject="u1",
            source="test",
        )
        deleted = make_event(
            EventType.USER_DELETED,
            UserDeleted(user_id="u9", email="x@y.z", deleted_by="a"),
            subject="u9",
            source="t",
        )
        started = time.monotonic()
        await bus.publish([OutgoingRecord(e.topic, b"k", e.to_json(), e.headers()) for e in (late, deleted)])
        while not all(r.is_revoked(principal("t-logout")) for r in lists):
            assert time.monotonic() - started < 1.0, "each process learns the revocation within a second"
            await asyncio.sleep(0.005)
        for revocations in lists:
            assert revocations.is_revoked(principal("before-start")), "read from now minus the token lifetime"
            assert revocations.is_revoked(principal("any", "u9", now - timedelta(minutes=1)))
        assert all(feed.status()["revocations"]["feed"] in ("live", "catching up") for feed in feeds)
    finally:
        for feed in feeds:
            await feed.stop()
        await bus.dispose()


async def test_a_tail_starts_at_the_first_record_since_the_moment_given(tmp_path: Path) -> None:
    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    await bus.publish([OutgoingRecord("t.events", None, b"old", [])])
    async with bus.db.transaction() as session:  # an hour ago
        from crm.platform.bus.local_log import records

        await session.execute(records.update().values(appended_at=int(time.time()) - 3600))
    await bus.publish([OutgoingRecord("t.events", None, b"new", [])])
    tail = await bus.tail(["t.events", "empty.events"], datetime.now(UTC) - timedelta(minutes=15))
    assert [r.value for r in await tail.fetch(10, timeout=0)] == [b"new"]
    await tail.commit([])  # nothing to commit: a tail has no group
    everything = await bus.tail(["t.events"], datetime.now(UTC) - timedelta(hours=2))
    assert [r.value for r in await everything.fetch(10, timeout=0)] == [b"old", b"new"]
    await bus.dispose()


async def test_expired_credentials_are_pruned(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from crm.platform.settings import Secret
    from crm.services.auth.config import AuthConfig
    from crm.services.auth.jobs import prune
    from crm.services.auth.models import LoginFailure, RefreshToken, RevokedToken

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'auth.sqlite3'}")
    await db.migrate(AUTH.migrations, lock_name="auth")
    now = datetime.now(UTC)
    async with db.transaction() as session:
        for name, age in (("old", timedelta(days=3)), ("live", -TTL)):
            session.add(RevokedToken(token_id=name, user_id="u", expires_at=now - age))
            session.add(
                RefreshToken(
                    id=name,
                    family_id="f",
                    user_id="u",
                    token_hash=name,
                    expires_at=now - age,
                    access_token_id=name,
                    access_expires_at=now,
                )
            )
            session.add(LoginFailure(id=name, scope="ip", key="1.2.3.4", at=now - max(age, timedelta(0))))
    config = AuthConfig(admin_email="a@b.c", admin_password=Secret(""))
    await prune(SimpleNamespace(db=db), config)  # type: ignore[arg-type]
    async with db.sessions() as session:
        for model in (RevokedToken, RefreshToken, LoginFailure):
            key = model.token_id if model is RevokedToken else model.id  # type: ignore[attr-defined]
            assert (await session.scalars(select(key))).all() == ["live"], model.__name__
    await db.dispose()


def test_jwt_secret_wins_else_auths_public_keys_else_the_service_refuses_to_start() -> None:
    from crm.modes.tokens import token_issuer, token_security
    from crm.platform.settings import ConfigError, Settings

    both = Settings.from_env("customer", {"JWT_SECRET": "j" * 40, "AUTH_SERVICE_URL": "http://auth:8000"})
    assert isinstance(token_security(both, None).verifier.keys, SharedSecret)
    assert isinstance(token_issuer(both), Tokens)
    remote = token_security(Settings.from_env("customer", {"AUTH_SERVICE_URL": "auth:8000"}), None)
    assert isinstance(remote.verifier.keys, RemoteJwks)
    assert remote.verifier.keys.url == "http://auth:8000/api/auth/.well-known/jwks.json"
    assert isinstance(token_issuer(Settings.from_env("auth", {})), EdDsaTokens)
    with pytest.raises(ConfigError, match=r"AUTH_SERVICE_URL.*JWT_SECRET"):
        token_security(Settings.from_env("customer", {}), None)


async def test_a_checked_token_is_remembered_but_its_expiry_and_revocation_are_checked_every_time() -> None:
    tokens, _verifier, keyring = eddsa()
    revocations = RevocationList(TTL)
    verifier = JwtVerifier(keyring, revocations, cache_size=2)
    first, second, third = (tokens.issue_token(user_id=f"u{n}", email="a@b.c", role="USER") for n in range(3))
    for issued in (first, second, third):
        assert (await verifier.verify(issued.token)).token_id == issued.token_id
    assert list(verifier._checked) == [second.token, third.token], "bounded: the oldest goes"
    revocations.add(Revocation.token(third.token_id, third.expires_at))
    assert await refused(verifier, third.token) == "Token revoked"
    verifier._checked[second.token] = (time.time() - 1, verifier._checked[second.token][1])  # time passes
    assert await refused(verifier, second.token) == "token expired"
