"""The gateway's edge, in process: token check before anything is forwarded, rate limits, CORS, security
headers, body limits, request ids and trace context — against an echoing test service, so each test sees
exactly what reached the service (or that nothing did)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import orjson
import pytest
from starlette.types import Receive, Scope, Send

from crm.platform.security import ISSUER, JwtVerifier, Tokens
from crm.platform.settings import EnvReader
from crm.services.gateway.app import Gateway
from crm.services.gateway.config import GatewayConfig
from crm.services.gateway.upstreams import AsgiUpstream

SECRET = "edge-test-secret-" + "s" * 32
TOKENS = Tokens(SECRET)
CLIENT_IP = "203.0.113.7"


class Echo:
    """A service that answers every request with what it received; ``calls`` lists them."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        call = {
            "method": scope["method"],
            "path": scope["path"],
            "query": scope["query_string"].decode(),
            "headers": headers,
            "body": len(body),
        }
        self.calls.append(call)
        status = 418 if scope["path"].endswith("/teapot") else 200
        payload = orjson.dumps(call)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", b"%d" % len(payload)),
                    (b"x-service", b"echo"),
                    (b"x-frame-options", b"SAMEORIGIN"),  # the gateway's own value wins
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


async def ready() -> dict[str, str]:
    return {"database": "ok"}


def gateway(echo: Echo, **env: str) -> Gateway:
    config = GatewayConfig.from_env(EnvReader({"RATE_LIMIT_ENABLED": "false", **env}))
    upstreams = {name: AsgiUpstream(name, echo, ready) for name in ("auth", "customer")}
    return Gateway(upstreams, verifier=JwtVerifier(TOKENS.verification_keys()), config=config)


@pytest.fixture
def echo() -> Echo:
    return Echo()


def client_of(app: Gateway, ip: str = CLIENT_IP) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://crm.test")


@pytest.fixture
async def api(echo: Echo) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(gateway(echo)) as client:
        yield client


def token(user_id: str = "u1", role: str = "USER") -> str:
    return TOKENS.issue(user_id=user_id, email=f"{user_id}@example.com", role=role)


def auth(user_id: str = "u1") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(user_id)}"}


# -- the token check at the edge ------------------------------------------------------------------------


async def test_no_token_is_refused_at_the_edge_and_the_service_never_called(
    api: httpx.AsyncClient, echo: Echo
) -> None:
    response = await api.get("/api/customers")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["error"] == "unauthorized" and body["message"] == "missing bearer token"
    assert body["requestId"] == response.headers["x-request-id"]
    assert echo.calls == []


def expired_token() -> str:
    past = datetime.now(UTC) - timedelta(hours=2)
    claims = {"iss": ISSUER, "sub": "u1", "role": "USER", "iat": past, "exp": past + timedelta(minutes=15)}
    return jwt.encode({**claims, "jti": "j1"}, SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer not-a-jwt", "invalid token"),
        ("Basic dXNlcjpwYXNz", "missing bearer token"),
        (f"Bearer {jwt.encode({'iss': ISSUER, 'sub': 'u1'}, 'another-secret-' + 'x' * 32)}", "invalid token"),
        ("EXPIRED", "token expired"),
        ("TAMPERED", "invalid token"),
    ],
)
async def test_invalid_tokens_are_refused_at_the_edge(
    api: httpx.AsyncClient, echo: Echo, header: str, message: str
) -> None:
    if header == "EXPIRED":
        header = f"Bearer {expired_token()}"
    elif header == "TAMPERED":
        head, _claims, signature = token().split(".")
        forged = jwt.utils.base64url_encode(
            orjson.dumps({**jwt.decode(token(), options={"verify_signature": False}), "role": "ADMIN"})
        ).decode()
        header = f"Bearer {head}.{forged}.{signature}"
    response = await api.post("/api/customers", headers={"Authorization": header}, json={"name": "X"})
    assert response.status_code == 401, response.text
    assert response.json()["message"] == message
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert echo.calls == []


async def test_a_valid_token_passes_and_the_service_gets_it_too(api: httpx.AsyncClient, echo: Echo) -> None:
    response = await api.get("/api/customers/42", headers=auth())
    assert response.status_code == 200
    assert echo.calls[0]["headers"]["authorization"].startswith("Bearer "), "services verify it again"


@pytest.mark.parametrize(
    "path",
    [
        "/api/auth/register",
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/auth/token",
        "/api/auth/.well-known/jwks.json",
    ],
)
async def test_public_routes_pass_without_a_token(api: httpx.AsyncClient, echo: Echo, path: str) -> None:
    method = "GET" if path.endswith(".json") else "POST"
    response = await api.request(method, path, json=None if method == "GET" else {})
    assert response.status_code == 200 and echo.calls[-1]["path"] == path


async def test_other_account_routes_need_a_token(api: httpx.AsyncClient, echo: Echo) -> None:
    for path in ("/api/auth/me", "/api/auth/logout", "/api/auth/users", "/api/auth/login/../me"):
        assert (await api.get(path)).status_code == 401, path
    assert echo.calls == []


async def test_the_gateways_own_pages_are_public(api: httpx.AsyncClient) -> None:
    for path in ("/health", "/ready", "/docs"):
        assert (await api.get(path)).status_code == 200, path
    assert (await api.get("/api/nowhere")).status_code == 404


# -- what reaches the service ---------------------------------------------------------------------------


async def test_request_id_is_made_forwarded_and_echoed(api: httpx.AsyncClient, echo: Echo) -> None:
    response = await api.get("/api/customers/1", headers=auth())
    made = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert echo.calls[-1]["headers"]["x-request-id"] == made
    mine = await api.get("/api/customers/1", headers={**auth(), "X-Request-ID": "client-req-7"})
    assert mine.headers["x-request-id"] == "client-req-7"
    assert echo.calls[-1]["headers"]["x-request-id"] == "client-req-7"


async def test_traceparent_is_forwarded_or_started(api: httpx.AsyncClient, echo: Echo) -> None:
    trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    await api.get("/api/customers/1", headers={**auth(), "traceparent": trace, "tracestate": "k=v"})
    assert echo.calls[-1]["headers"]["traceparent"] == trace
    assert echo.calls[-1]["headers"]["tracestate"] == "k=v"
    await api.get("/api/customers/1", headers=auth())
    started = echo.calls[-1]["headers"]["traceparent"]
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", started)


async def test_forwarded_headers_are_the_gateways_own(api: httpx.AsyncClient, echo: Echo) -> None:
    spoofed = {"X-Forwarded-For": "10.0.0.1", "X-Real-IP": "10.0.0.2", "Forwarded": "for=10.0.0.3"}
    await api.get("/api/customers/1", headers={**auth(), **spoofed, "X-Forwarded-Proto": "http"})
    seen = echo.calls[-1]["headers"]
    assert seen["x-forwarded-for"] == CLIENT_IP, "a client cannot pose as another address to the services"
    assert "x-real-ip" not in seen and "forwarded" not in seen
    assert seen["x-forwarded-proto"] == "http" and seen["x-forwarded-host"] == "crm.test"


async def test_method_path_query_status_and_headers_are_preserved(api: httpx.AsyncClient, echo: Echo) -> None:
    response = await api.patch(
        "/api/customers/teapot?q=caf%C3%A9&size=LARGE&size=SMALL", headers=auth(), json={"name": "Y"}
    )
    assert response.status_code == 418 and response.headers["x-service"] == "echo"
    call = echo.calls[-1]
    assert call["method"] == "PATCH" and call["query"] == "q=caf%C3%A9&size=LARGE&size=SMALL"
    assert call["body"] == len(b'{"name":"Y"}')
    assert "connection" not in call["headers"] and "te" not in call["headers"]


async def test_hop_by_hop_headers_stay_at_the_edge(api: httpx.AsyncClient, echo: Echo) -> None:
    await api.get(
        "/api/customers/1", headers={**auth(), "Connection": "keep-alive, X-Secret-Hop", "X-Secret-Hop": "1"}
    )
    assert "x-secret-hop" not in echo.calls[-1]["headers"]


# -- body size ---------------------------------------------------------------------------------------------


async def test_a_body_announced_over_1_mb_is_refused_before_it_is_read(
    api: httpx.AsyncClient, echo: Echo
) -> None:
    response = await api.post(
        "/api/customers", headers={**auth(), "Content-Type": "application/json"}, content=b"x" * 1_048_577
    )
    assert response.status_code == 413 and response.json()["error"] == "payload_too_large"
    assert echo.calls == []
    ok = await api.post("/api/customers", headers=auth(), content=b"x" * 1_048_576)
    assert ok.status_code == 200 and echo.calls[-1]["body"] == 1_048_576, "exactly 1 MB passes"


async def test_a_chunked_body_over_1_mb_is_refused_while_read(api: httpx.AsyncClient, echo: Echo) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"y" * 65_536

    response = await api.post("/api/customers", headers=auth(), content=chunks())
    assert response.status_code == 413
    assert echo.calls == []


async def test_an_unparsable_content_length_is_a_bad_request(echo: Echo) -> None:
    app = gateway(echo)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/customers",
        "raw_path": b"/api/customers",
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {token()}".encode()), (b"content-length", b"12abc")],
        "client": (CLIENT_IP, 1),
        "scheme": "http",
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 400 and echo.calls == []


async def test_a_body_cut_short_by_the_client_is_never_forwarded(echo: Echo) -> None:
    app = gateway(echo)
    messages = iter(
        [
            {"type": "http.request", "body": b'{"name": "half', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/customers",
        "raw_path": b"/api/customers",
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {token()}".encode()), (b"content-length", b"40")],
        "client": (CLIENT_IP, 1),
        "scheme": "http",
    }
    await app(scope, receive, send)
    assert echo.calls == [] and sent == []


# -- security headers and CORS --------------------------------------------------------------------------

SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


async def test_security_headers_are_on_every_answer(api: httpx.AsyncClient) -> None:
    answers = [
        await api.get("/api/customers/1", headers=auth()),
        await api.get("/api/customers/1"),
        await api.get("/api/nowhere"),
        await api.get("/health"),
        await api.get("/openapi.json"),
        await api.post("/api/customers", headers=auth(), content=b"x" * 2_000_000),
    ]
    for response in answers:
        for name, value in SECURITY.items():
            assert response.headers.get_list(name) == [value], (response.request.url, name)
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert "strict-transport-security" not in response.headers, "plain HTTP: no HSTS"
    docs = await api.get("/docs")
    assert "https://cdn.jsdelivr.net" in docs.headers["content-security-policy"]


async def test_hsts_behind_https(api: httpx.AsyncClient, echo: Echo) -> None:
    response = await api.get("/api/customers/1", headers={**auth(), "X-Forwarded-Proto": "https"})
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")
    assert echo.calls[-1]["headers"]["x-forwarded-proto"] == "http", (
        "only uvicorn's trusted proxies say https"
    )


ORIGIN = "https://crm.example.com"


async def test_a_preflight_is_answered_at_the_edge(echo: Echo) -> None:
    async with client_of(gateway(echo, CORS_ORIGINS=f"{ORIGIN},http://localhost:5173")) as client:
        response = await client.options(
            "/api/customers",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type, x-request-id",
            },
        )
        assert response.status_code == 204 and response.content == b""
        assert "content-length" not in response.headers and "content-type" not in response.headers
        assert response.headers["access-control-allow-origin"] == ORIGIN
        assert "POST" in response.headers["access-control-allow-methods"]
        assert response.headers["access-control-allow-headers"] == "authorization, content-type, x-request-id"
        assert response.headers["access-control-allow-credentials"] == "true"
        assert response.headers["x-frame-options"] == "DENY"
        refused = await client.options(
            "/api/customers",
            headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "DELETE"},
        )
        assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
        actual = await client.get("/api/customers/1", headers={**auth(), "Origin": ORIGIN})
        assert actual.headers["access-control-allow-origin"] == ORIGIN
        assert "x-request-id" in actual.headers["access-control-expose-headers"]
        denied = await client.get("/api/customers/1", headers={"Origin": ORIGIN})
        assert denied.status_code == 401 and denied.headers["access-control-allow-origin"] == ORIGIN
        other = await client.get("/api/customers/1", headers={**auth(), "Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in other.headers
    assert echo.calls and all(call["method"] != "OPTIONS" for call in echo.calls)


async def test_no_cors_unless_configured(api: httpx.AsyncClient, echo: Echo) -> None:
    response = await api.get("/api/customers/1", headers={**auth(), "Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers
    preflight = await api.options(
        "/api/customers", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 403 and len(echo.calls) == 1


# -- rate limits (in memory) ----------------------------------------------------------------------------


async def test_per_ip_limit_gives_429_with_retry_after(echo: Echo) -> None:
    app = gateway(echo, RATE_LIMIT_ENABLED="true", RATE_LIMIT_PER_IP="3/60")
    async with client_of(app) as client:
        answers = [await client.get("/api/customers/1", headers=auth()) for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert [r.headers["ratelimit-remaining"] for r in answers] == ["2", "1", "0", "0"]
        refused = answers[-1]
        assert refused.headers["retry-after"] == "20" and refused.headers["ratelimit-limit"] == "3"
        assert refused.headers["ratelimit-policy"] == "3;w=60"
        assert refused.json()["error"] == "rate_limited" and refused.json()["requestId"]
        assert refused.headers["x-content-type-options"] == "nosniff"
    assert len(echo.calls) == 3
    async with client_of(app, ip="198.51.100.9") as other:
        assert (await other.get("/api/customers/1", headers=auth())).status_code == 200, "another IP"


async def test_per_user_limit_follows_the_user_across_addresses(echo: Echo) -> None:
    app = gateway(echo, RATE_LIMIT_ENABLED="true", RATE_LIMIT_PER_IP="100/60", RATE_LIMIT_PER_USER="2/60")
    statuses = []
    for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        async with client_of(app, ip=ip) as client:
            statuses.append((await client.get("/api/customers/1", headers=auth("alice"))).status_code)
    assert statuses == [200, 200, 429]
    async with client_of(app, ip="198.51.100.3") as client:
        assert (await client.get("/api/customers/1", headers=auth("bob"))).status_code == 200


async def test_the_account_endpoints_have_a_stricter_bucket(echo: Echo) -> None:
    app = gateway(echo, RATE_LIMIT_ENABLED="true", RATE_LIMIT_PER_IP="100/60", RATE_LIMIT_AUTH="2/60")
    async with client_of(app) as client:
        logins = [(await client.post("/api/auth/login", json={})).status_code for _ in range(3)]
        assert logins == [200, 200, 429]
        assert (await client.post("/api/auth/register", json={})).status_code == 429, (
            "one bucket for all four"
        )
        assert (await client.get("/api/customers/1", headers=auth())).status_code == 200, "the rest is not"


async def test_refused_tokens_count_against_the_address(echo: Echo) -> None:
    app = gateway(echo, RATE_LIMIT_ENABLED="true", RATE_LIMIT_PER_IP="3/60")
    async with client_of(app) as client:
        statuses = [(await client.get("/api/customers/1")).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429], "guessing tokens is rate limited too"


async def test_health_is_never_rate_limited_and_reports_the_limiter(echo: Echo) -> None:
    app = gateway(echo, RATE_LIMIT_ENABLED="true", RATE_LIMIT_PER_IP="1/60")
    async with client_of(app) as client:
        for _ in range(5):
            response = await client.get("/health")
            assert response.status_code == 200
    gateway_state = response.json()["gateway"]
    assert gateway_state["rateLimit"]["backend"] == "memory"
    assert gateway_state["rateLimit"]["policies"]["ip"] == "1;w=60"
    assert gateway_state["edgeAuth"] == "on" and gateway_state["status"] == "up"
