"""The gateway over real sockets: a uvicorn server in front of a uvicorn test service, both in this test's
event loop, HTTP/1.1 between them. Streaming without buffering, keep-alive reuse, chunked answers, upstream
failures as 502/504 JSON, and the limits on request bodies."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import orjson
import pytest
from starlette.types import Receive, Scope, Send

from crm.localinfra.ports import free_port
from crm.platform.security import JwtVerifier, Tokens
from crm.platform.settings import EnvReader
from crm.services.gateway.app import Gateway
from crm.services.gateway.config import GatewayConfig
from crm.services.gateway.upstreams import HttpUpstream
from tests.support.serving import serving
from tests.support.waiting import eventually

SECRET = "http-test-secret-" + "h" * 32
# Minted at import, used until the end of the run (which can pass the default 15 minutes): a day-long token.
TOKENS = Tokens(SECRET, ttl_minutes=24 * 60)
AUTH = {"Authorization": f"Bearer {TOKENS.issue(user_id='u1', email='u1@example.com', role='USER')}"}
BIG = 5 * 1024 * 1024
PIECE = 64 * 1024


def pattern(size: int) -> bytes:
    return (b"0123456789abcdef" * (size // 16 + 1))[:size]


class Service:
    """The test service: echoes, streams, stalls or breaks, depending on the path."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.streamed_all = False
        self.peers: list[int] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"].rsplit("/", 1)[-1]
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.peers.append(scope["client"][1])
        if path == "echo":
            payload = orjson.dumps(
                {
                    "method": scope["method"],
                    "query": scope["query_string"].decode(),
                    "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
                    "sha256": hashlib.sha256(body).hexdigest(),
                    "port": scope["client"][1],
                }
            )
            await start(send, 200, [(b"content-type", b"application/json"), length(payload)])
            await send({"type": "http.response.body", "body": payload})
        elif path == "big":  # a Content-Length body far larger than the gateway would hold
            await start(
                send, 200, [(b"content-type", b"application/octet-stream"), (b"content-length", b"%d" % BIG)]
            )
            data = pattern(BIG)
            for offset in range(0, BIG, PIECE):
                await send(
                    {"type": "http.response.body", "body": data[offset : offset + PIECE], "more_body": True}
                )
            await send({"type": "http.response.body", "body": b""})
        elif path == "stream":  # chunked; stops after the first piece until the test has seen it arrive
            self.streamed_all = False
            await start(send, 200, [(b"content-type", b"text/plain")])
            data = pattern(BIG)
            await send({"type": "http.response.body", "body": data[:PIECE], "more_body": True})
            await asyncio.wait_for(self.release.wait(), 10)
            for offset in range(PIECE, BIG, PIECE):
                await send(
                    {"type": "http.response.body", "body": data[offset : offset + PIECE], "more_body": True}
                )
            self.streamed_all = True
            await send({"type": "http.response.body", "body": b""})
        elif path == "slow":
            await asyncio.sleep(5)
            await start(send, 200, [length(b"late")])
            await send({"type": "http.response.body", "body": b"late"})
        elif path == "broken":  # promises 100 000 bytes, sends 10, dies
            await start(send, 200, [(b"content-length", b"100000")])
            await send({"type": "http.response.body", "body": b"0123456789", "more_body": True})
            raise RuntimeError("the service broke mid-answer (expected by the test)")
        elif path == "ready":
            await start(send, 200, [(b"content-type", b"application/json"), length(b'{"status":"ready"}')])
            await send({"type": "http.response.body", "body": b'{"status":"ready"}'})
        else:
            await start(send, 404, [length(b"")])
            await send({"type": "http.response.body", "body": b""})


async def start(send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})


def length(body: bytes) -> tuple[bytes, bytes]:
    return (b"content-length", b"%d" % len(body))


@pytest.fixture(scope="module")
async def service() -> AsyncIterator[tuple[Service, str]]:
    app = Service()
    # proxy_headers off: the peer's own port shows which connection a request came on.
    async with serving(app, lifespan="off", timeout_keep_alive=2, proxy_headers=False) as url:
        yield app, url


@asynccontextmanager
async def through_gateway(upstream_url: str, **env: str) -> AsyncIterator[tuple[str, HttpUpstream]]:
    config = GatewayConfig.from_env(EnvReader({"RATE_LIMIT_ENABLED": "false", **env}))
    upstream = HttpUpstream("customer", upstream_url, timeout=config.upstream_timeout)
    app = Gateway({"customer": upstream}, verifier=JwtVerifier(TOKENS.verification_keys()), config=config)
    async with serving(app, lifespan="on") as url:
        yield url, upstream


@pytest.fixture(scope="module")
async def gateway(service: tuple[Service, str]) -> AsyncIterator[tuple[str, HttpUpstream]]:
    async with through_gateway(service[1], GATEWAY_UPSTREAM_TIMEOUT_SECONDS="2") as running:
        yield running


@pytest.fixture
async def api(gateway: tuple[str, HttpUpstream]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway[0], timeout=20) as client:
        yield client


# -- forwarding ---------------------------------------------------------------------------------------------


async def test_headers_query_and_body_reach_the_service(api: httpx.AsyncClient) -> None:
    trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    body = pattern(300_000)
    response = await api.post(
        "/api/customers/echo?q=a%20b&x=1&x=2",
        headers={**AUTH, "X-Request-ID": "req-42", "traceparent": trace, "X-Custom": "kept"},
        content=body,
    )
    assert response.status_code == 200
    seen = response.json()
    assert seen["method"] == "POST" and seen["query"] == "q=a%20b&x=1&x=2"
    assert seen["sha256"] == hashlib.sha256(body).hexdigest()
    headers = seen["headers"]
    assert headers["x-request-id"] == "req-42" == response.headers["x-request-id"]
    assert headers["traceparent"] == trace
    assert headers["x-forwarded-for"] == "127.0.0.1" and headers["x-forwarded-proto"] == "http"
    assert headers["x-custom"] == "kept" and headers["content-length"] == str(len(body))
    assert response.headers.get_list("date").__len__() == 1, "one Date header, the gateway's"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_request_id_and_a_trace_are_started_when_absent(api: httpx.AsyncClient) -> None:
    seen = (await api.get("/api/customers/echo", headers=AUTH)).json()["headers"]
    assert len(seen["x-request-id"]) == 32 and seen["traceparent"].startswith("00-")


async def test_connections_to_the_service_are_kept_alive(
    api: httpx.AsyncClient, service: tuple[Service, str]
) -> None:
    ports = {(await api.get("/api/customers/echo", headers=AUTH)).json()["port"] for _ in range(20)}
    assert len(ports) == 1, f"sequential requests share one upstream connection, got {ports}"


async def test_an_idle_connection_the_service_closed_is_replaced(
    api: httpx.AsyncClient, gateway: tuple[str, HttpUpstream]
) -> None:
    first = (await api.get("/api/customers/echo", headers=AUTH)).json()["port"]
    pool = gateway[1].pool

    async def service_closed_it() -> bool:  # uvicorn's keep-alive timeout (2 s here) ends the idle connection
        return all(conn.eof or conn.closed for conn in pool.idle)

    await eventually(service_closed_it, timeout=10, what="the service to close the idle connection")
    again = await api.get("/api/customers/echo", headers=AUTH)
    assert again.status_code == 200 and again.json()["port"] != first


async def test_head_keeps_the_length_and_sends_no_body(api: httpx.AsyncClient) -> None:
    response = await api.head("/api/customers/big", headers=AUTH)
    assert response.status_code == 200 and response.headers["content-length"] == str(BIG)
    assert response.content == b""


# -- streaming --------------------------------------------------------------------------------------------


async def test_a_large_response_streams_through_without_being_held(
    api: httpx.AsyncClient, service: tuple[Service, str]
) -> None:
    app, _url = service
    app.release.clear()
    received = bytearray()
    async with api.stream("GET", "/api/customers/stream", headers=AUTH) as response:
        assert response.status_code == 200 and "content-length" not in response.headers
        pieces = response.aiter_raw()
        received += await asyncio.wait_for(pieces.__anext__(), 5)
        # The service is still holding the rest back: what arrived cannot have been collected first.
        assert not app.streamed_all and 0 < len(received) <= PIECE
        app.release.set()
        async for piece in pieces:
            received += piece
    assert bytes(received) == pattern(BIG)


async def test_a_large_content_length_body_streams_with_its_length(api: httpx.AsyncClient) -> None:
    async with api.stream("GET", "/api/customers/big", headers=AUTH) as response:
        assert response.headers["content-length"] == str(BIG)
        pieces = [piece async for piece in response.aiter_raw()]
    assert b"".join(pieces) == pattern(BIG)
    assert len(pieces) > 1, "passed on piece by piece"


async def test_many_concurrent_requests_each_get_their_own_answer(api: httpx.AsyncClient) -> None:
    async def one(n: int) -> None:
        response = await api.get(f"/api/customers/echo?n={n}", headers=AUTH)
        assert response.json()["query"] == f"n={n}"

    await asyncio.gather(*(one(n) for n in range(64)))


# -- failures ------------------------------------------------------------------------------------------------


async def test_a_service_that_is_down_is_a_502_json() -> None:
    async with (
        through_gateway(f"http://127.0.0.1:{free_port()}") as (url, _upstream),
        httpx.AsyncClient(base_url=url) as client,
    ):
        response = await client.get("/api/customers/echo", headers={**AUTH, "X-Request-ID": "down-1"})
        assert response.status_code == 502
        assert response.json() == {
            "error": "upstream_unavailable",
            "message": "customer is unreachable",
            "requestId": "down-1",
        }
        assert response.headers["x-frame-options"] == "DENY"
        health = await client.get("/health")
        assert health.status_code == 503
        assert health.json()["services"]["customer"]["status"] == "down"


async def test_a_slow_service_is_a_504_json_and_the_gateway_keeps_serving(
    api: httpx.AsyncClient,
) -> None:
    response = await api.get("/api/customers/slow", headers=AUTH)
    assert response.status_code == 504 and response.json()["error"] == "upstream_timeout"
    assert (await api.get("/api/customers/echo", headers=AUTH)).status_code == 200


async def test_a_service_breaking_mid_answer_cuts_the_clients_connection(api: httpx.AsyncClient) -> None:
    with pytest.raises(httpx.HTTPError):
        await api.get("/api/customers/broken", headers=AUTH)
    assert (await api.get("/api/customers/echo", headers=AUTH)).status_code == 200


async def test_no_token_never_reaches_the_service(
    api: httpx.AsyncClient, service: tuple[Service, str]
) -> None:
    before = len(service[0].peers)
    assert (await api.get("/api/customers/echo")).status_code == 401
    assert len(service[0].peers) == before


# -- request bodies ------------------------------------------------------------------------------------------


async def test_oversized_bodies_are_413_with_or_without_content_length(
    api: httpx.AsyncClient, service: tuple[Service, str]
) -> None:
    before = len(service[0].peers)
    announced = await api.post("/api/customers/echo", headers=AUTH, content=b"z" * (1_048_576 + 1))
    assert announced.status_code == 413 and announced.json()["error"] == "payload_too_large"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"z" * 32_768

    async with httpx.AsyncClient(base_url=str(api.base_url), timeout=20) as fresh:
        streamed = await fresh.post("/api/customers/echo", headers=AUTH, content=chunks())
    assert streamed.status_code == 413
    assert len(service[0].peers) == before, "the service saw neither"
    exactly = await api.post("/api/customers/echo", headers=AUTH, content=b"z" * 1_048_576)
    assert exactly.status_code == 200


# -- the answer on the wire ---------------------------------------------------------------------------------


async def test_answers_on_one_kept_alive_connection_are_well_formed(
    gateway: tuple[str, HttpUpstream],
) -> None:
    """Raw HTTP/1.1 against the gateway: two requests on one connection, each answer whole and well-formed,
    written by the one-write path under uvicorn (no fallback to ASGI messages happened)."""
    from crm.services.gateway import direct

    host, port = gateway[0].removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    token = AUTH["Authorization"].encode()
    try:
        for n in range(2):
            writer.write(
                b"GET /api/customers/echo?n=%d HTTP/1.1\r\nHost: gw\r\nAuthorization: %s\r\n\r\n" % (n, token)
            )
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            lines = head.decode().split("\r\n")
            assert lines[0] == "HTTP/1.1 200 OK"
            names = [line.split(":", 1)[0].lower() for line in lines[1:] if line]
            assert names.count("date") == names.count("server") == names.count("content-length") == 1, names
            assert "transfer-encoding" not in names and "connection" not in names
            length = int(
                next(line for line in lines if line.lower().startswith("content-length")).split(":")[1]
            )
            body = orjson.loads(await reader.readexactly(length))
            assert body["query"] == f"n={n}"
    finally:
        writer.close()
    assert direct._usable, "the one-write path stayed on"


async def test_a_preflight_over_the_wire_then_the_request(service: tuple[Service, str]) -> None:
    origin = "https://crm.example.com"
    async with (
        through_gateway(service[1], CORS_ORIGINS=origin) as (url, _upstream),
        httpx.AsyncClient(base_url=url) as client,
    ):
        preflight = await client.options(
            "/api/customers/echo",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == origin
        actual = await client.get("/api/customers/echo", headers={**AUTH, "Origin": origin})
        assert actual.status_code == 200 and actual.headers["access-control-allow-origin"] == origin
