"""The gateway's small parts: its settings, request ids and trace context, and the
HTTP/1.1 response reader (status line, interim answers, Content-Length, chunked, until-close bodies)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from crm.platform.security import TokenError
from crm.platform.settings import ConfigError, EnvReader
from crm.services.gateway import edge, http1
from crm.services.gateway.config import GatewayConfig, Rate, redact
from crm.services.gateway.edge_auth import bearer
from crm.services.gateway.upstreams import RESPONSE_DROP

# -- settings -------------------------------------------------------------------------------------------


def config(profile: str = "serve", **env: str) -> GatewayConfig:
    return GatewayConfig.from_env(EnvReader(env), profile)  # type: ignore[arg-type]


def test_serve_defaults_are_the_original_systems_limits() -> None:
    c = config()
    assert c.rate_limit_enabled and c.rate_limit_backend == "memory"
    assert c.per_ip == Rate(100, 900.0), "the original: 100 requests / 15 min per IP"
    assert c.auth == Rate(10, 60.0) and c.per_user == Rate(1000, 900.0)
    assert c.cors_origins == () and c.upstream_timeout == 30


def test_dev_defaults_are_generous_but_on() -> None:
    c = config("dev")
    assert c.rate_limit_enabled
    assert c.per_ip is not None and c.per_ip.limit / c.per_ip.period > 100 / 900 * 100


def test_a_config_built_by_hand_limits_nothing() -> None:
    assert not GatewayConfig().rate_limit_enabled and GatewayConfig().rate_limit_backend == "off"


def test_every_variable_is_read() -> None:
    c = config(
        RATE_LIMIT_ENABLED="false",
        RATE_LIMIT_PER_IP="5/10",
        RATE_LIMIT_PER_USER="off",
        RATE_LIMIT_AUTH="1/1m",
        REDIS_URL="redis://:pw@cache:6379/2",
        CORS_ORIGINS="https://crm.example.com, HTTP://localhost:5173/",
        GATEWAY_UPSTREAM_TIMEOUT_SECONDS="7",
    )
    assert not c.rate_limit_enabled and c.rate_limit_backend == "off"
    assert (c.per_ip, c.per_user, c.auth) == (Rate(5, 10.0), None, Rate(1, 60.0))
    assert c.redis_url == "redis://:pw@cache:6379/2"
    assert c.cors_origins == ("https://crm.example.com", "http://localhost:5173")
    assert c.upstream_timeout == 7


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RATE_LIMIT_ENABLED", "maybe"),
        ("RATE_LIMIT_PER_IP", "lots"),
        ("RATE_LIMIT_PER_USER", "10"),
        ("REDIS_URL", "http://cache:6379"),
        ("CORS_ORIGINS", "crm.example.com"),
        ("CORS_ORIGINS", "https://crm.example.com/app"),
        ("GATEWAY_UPSTREAM_TIMEOUT_SECONDS", "0"),
    ],
)
def test_an_invalid_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        config(**{variable: value})


def test_a_redis_password_never_shows_in_a_message() -> None:
    assert redact("redis://:s3cret@cache:6379/0") == "redis://***@cache:6379/0"
    with pytest.raises(ConfigError) as caught:
        config(REDIS_URL="http://user:s3cret@cache")
    assert "s3cret" not in str(caught.value)


# -- the token cache ----------------------------------------------------------------------------------


def test_bearer_tokens() -> None:
    assert bearer(b"Bearer abc.def.ghi") == "abc.def.ghi"
    assert bearer(b"bearer   abc ") == "abc"
    for header in (None, b"", b"Basic dXNlcjpwdw==", b"Bearer", b"Bearer ", b"Token abc"):
        with pytest.raises(TokenError, match="missing bearer token"):
            bearer(header)


# -- request ids and trace context ----------------------------------------------------------------------


def test_request_ids_are_kept_when_sane_and_made_otherwise() -> None:
    assert edge.request_id(b"abc-123_DEF.4") == b"abc-123_DEF.4"
    for bad in (None, b"", b"x" * 129, b"has space", b"new\nline", b'quote"'):
        made = edge.request_id(bad)
        assert re.fullmatch(rb"[0-9a-f]{32}", made), made
    assert edge.request_id(None) != edge.request_id(None)


VALID_TRACE = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_valid_traceparent_is_forwarded_and_others_start_a_trace() -> None:
    assert edge.traceparent(VALID_TRACE) == VALID_TRACE
    assert edge.traceparent(VALID_TRACE.upper()) == VALID_TRACE
    for bad in (
        None,
        b"garbage",
        b"00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # all-zero trace id
        b"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # all-zero parent id
        b"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # forbidden version
        b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  # version 00 has no more fields
    ):
        started = edge.traceparent(bad)
        assert re.fullmatch(rb"00-[0-9a-f]{32}-[0-9a-f]{16}-01", started), started
        assert started != bad


def test_cors_allows_listed_origins_only() -> None:
    cors = edge.Cors(("https://crm.example.com",))
    assert cors.allows(b"https://crm.example.com") and cors.allows(b"https://CRM.example.com/")
    assert not cors.allows(b"https://evil.example.com")
    headers = dict(cors.response_headers(b"https://crm.example.com"))
    assert headers[b"access-control-allow-credentials"] == b"true" and headers[b"vary"] == b"Origin"
    star = edge.Cors(("*",))
    assert star.allows(b"https://anything.example") and star.response_headers(b"x")[0][1] == b"*"
    assert not edge.Cors(()).enabled


def test_the_docs_csp_allows_exactly_the_swagger_page() -> None:
    from crm.services.gateway.openapi import SWAGGER_HTML

    assert b"cdn.jsdelivr.net" in edge.DOCS_CSP and b"'unsafe-eval'" not in edge.DOCS_CSP
    scripts = re.findall(r"<script>(.*?)</script>", SWAGGER_HTML, re.S)
    assert len(scripts) == 1 and edge._script_hash(scripts[0]).encode() in edge.DOCS_CSP
    assert edge.API_CSP.startswith(b"default-src 'none'")


# -- the HTTP/1.1 reader ----------------------------------------------------------------------------------


_feeders: set[asyncio.Future[None]] = set()


def connection(*packets: bytes, eof: bool = True) -> http1.Connection:
    """A connection fed ``packets`` one per loop turn, then EOF."""
    loop = asyncio.get_running_loop()
    conn = http1.Connection(loop)

    class Transport:
        def pause_reading(self) -> None: ...
        def resume_reading(self) -> None: ...
        def close(self) -> None: ...

    conn.transport = Transport()  # type: ignore[assignment]

    async def feed() -> None:
        for packet in packets:
            await asyncio.sleep(0)
            conn.data_received(packet)
        if eof:
            await asyncio.sleep(0)
            conn.eof_received()

    _feeders.add(asyncio.ensure_future(feed()))
    return conn


async def read(
    conn: http1.Connection, method: str = "GET"
) -> tuple[http1.ResponseHead, list[dict[str, Any]]]:
    head = await http1.read_head(conn, method, 2.0, RESPONSE_DROP)
    messages: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    head.keep_alive = await http1.stream_body(conn, head, send, 2.0)
    return head, messages


def body_of(messages: list[dict[str, Any]]) -> bytes:
    assert messages[-1]["more_body"] is False and all(m["more_body"] for m in messages[:-1])
    return b"".join(m["body"] for m in messages)


async def test_a_content_length_answer_split_across_packets() -> None:
    conn = connection(
        b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Len",
        b'gth: 11\r\nX-Custom: 1\r\nDate: x\r\nServer: y\r\n\r\n{"a":',
        b'"bcd"}',
        eof=False,
    )
    head, messages = await read(conn)
    assert head.status == 201 and head.keep_alive
    assert head.headers == [
        (b"content-type", b"application/json"),
        (b"x-custom", b"1"),
        (b"content-length", b"11"),
    ], "names lower-cased; date/server/framing dropped; our own content-length"
    assert body_of(messages) == b'{"a":"bcd"}'


async def test_interim_answers_are_skipped_and_close_is_honoured() -> None:
    conn = connection(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    )
    head, messages = await read(conn)
    assert head.status == 200 and not head.keep_alive and body_of(messages) == b"ok"


async def test_chunked_bodies_are_decoded_and_passed_on_as_they_come() -> None:
    conn = connection(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        b"6;ext=1\r\n world\r\n",
        b"0\r\nTrailer: x\r\n\r\n",
        eof=False,
    )
    head, messages = await read(conn)
    assert head.framing == http1.CHUNKED and (b"transfer-encoding", b"chunked") not in head.headers
    assert body_of(messages) == b"hello world"
    assert len(messages) >= 2, "streamed, not collected"
    assert head.keep_alive


async def test_a_body_until_the_connection_closes() -> None:
    conn = connection(b"HTTP/1.0 200 OK\r\n\r\npart one, ", b"part two")
    head, messages = await read(conn)
    assert head.framing == http1.UNTIL_CLOSE and not head.keep_alive
    assert body_of(messages) == b"part one, part two"


async def test_head_and_no_content_answers_have_no_body() -> None:
    head, messages = await read(
        connection(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", eof=False), "HEAD"
    )
    assert (b"content-length", b"99") in head.headers and body_of(messages) == b""
    head, messages = await read(connection(b"HTTP/1.1 204 No Content\r\n\r\n", eof=False))
    assert head.status == 204 and body_of(messages) == b""


async def test_invalid_answers_are_protocol_errors() -> None:
    for raw in (b"SSH-2.0-OpenSSH\r\n\r\n", b"HTTP/1.1 abc OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nbroken\r\n\r\n"):
        with pytest.raises(http1.UpstreamProtocolError):
            await http1.read_head(connection(raw), "GET", 2.0, RESPONSE_DROP)


async def test_eof_before_an_answer_and_silence_are_told_apart() -> None:
    with pytest.raises(http1.UpstreamClosed):
        await http1.read_head(connection(), "GET", 2.0, RESPONSE_DROP)
    with pytest.raises(TimeoutError):
        await http1.read_head(connection(eof=False), "GET", 0.05, RESPONSE_DROP)


@pytest.mark.parametrize(
    "value",
    [b"a\nx-injected: 1", b"a\rb", b"nul\x00byte", b"bell\x07", b"del\x7f"],
)
async def test_a_head_with_control_characters_is_refused(value: bytes) -> None:
    """Whatever a service answers, it cannot smuggle a header (or a whole answer) to the client."""
    raw = b"HTTP/1.1 200 OK\r\nX-Value: " + value + b"\r\nContent-Length: 0\r\n\r\n"
    with pytest.raises(http1.UpstreamProtocolError):
        await http1.read_head(connection(raw), "GET", 2.0, RESPONSE_DROP)
    tab = b"HTTP/1.1 200 OK\r\nX-Value: a\tb\r\nContent-Length: 0\r\n\r\n"
    assert (await http1.read_head(connection(tab), "GET", 2.0, RESPONSE_DROP)).headers[0] == (
        b"x-value",
        b"a\tb",
    )


def test_dev_budgets_for_a_laptop_gateway_process_leave_set_variables_alone() -> None:
    from crm.services.gateway.config import dev_rate_limits

    assert dev_rate_limits({}) == {
        "RATE_LIMIT_PER_IP": "10000/60",
        "RATE_LIMIT_PER_USER": "10000/60",
        "RATE_LIMIT_AUTH": "1000/60",
    }
    assert "RATE_LIMIT_AUTH" not in dev_rate_limits({"RATE_LIMIT_AUTH": "5/60"})
    assert config(**dev_rate_limits({})).per_ip == config("dev").per_ip
