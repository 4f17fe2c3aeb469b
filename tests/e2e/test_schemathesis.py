"""schemathesis over the merged OpenAPI document (``/openapi.json`` of the gateway), every request sent
through the gateway with a valid token, as an ADMIN and as a plain USER: no answer is a 5xx, and every answer
is documented (its status code, its content type, its headers, its body's schema). Invalid input generated
from the schema (negative mode) must be refused with a 4xx.

Bounded and reproducible: a fixed number of examples per operation, role and mode, derandomised (the same
cases on every run), no example database. A failure prints the request to replay.

The CRM runs embedded in a thread of its own (its own event loop): hypothesis tests are synchronous, the
embedded CRM's engines and tasks belong to one loop, and httpx calls the gateway's ASGI app in process.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS
from schemathesis.config import SchemathesisConfig

from tests.support.embedded import login, register, running_embedded
from tests.support.opportunity import quiesce

T = TypeVar("T")
MAX_EXAMPLES = 10  # per operation, role and mode: ~2 x 2 x 57 x 10 requests, well under a minute here
# Routes whose effect would end the run early, with the reason.
EXCLUDED = {
    ("POST", "/api/auth/logout"): "revokes the caller's own token: every later request would be a 401",
    ("GET", "/api/stream"): "a live stream never ends (tests/e2e/test_live_stream.py reads it over a socket)",
}
CHECK_NAMES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)
HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
)


@dataclass
class Crm:
    loop: asyncio.AbstractEventLoop
    client: httpx.AsyncClient
    tokens: dict[str, str]
    document: dict[str, Any]

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crm]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="embedded-crm", daemon=True)
    thread.start()

    def run(coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=60)

    # The limits would answer 429 to most of the run (documented, but then nothing else would be tested).
    embedded = running_embedded(tmp_path_factory.mktemp("schemathesis"), RATE_LIMIT_ENABLED="false")
    embedded_crm, client = run(embedded.__aenter__())
    try:
        admin = run(login(client))["token"]
        run(register(client, "plain-user@example.com"))
        user = run(login(client, "plain-user@example.com", "Password123!"))["token"]
        document = run(client.get("/openapi.json")).json()
        yield Crm(loop, client, {"ADMIN": admin, "USER": user}, document)
    finally:
        run(quiesce(embedded_crm))
        run(embedded.__aexit__(None, None, None))
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def send(crm: Crm, case: Any) -> httpx.Response:
    """The case as schemathesis would send it, through the gateway in the CRM's loop."""
    kwargs = case.as_transport_kwargs(base_url="http://crm.test")
    request: dict[str, Any] = {
        "method": kwargs["method"],
        "url": kwargs["url"],
        "headers": kwargs["headers"],
        "params": {k: v for k, v in (kwargs.get("params") or {}).items() if v is not None},
        "cookies": kwargs.get("cookies") or None,
    }
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    data = kwargs.get("data")
    if isinstance(data, bytes | str):
        request["content"] = data
    elif data is not None:
        request["data"] = data
    return crm.run(crm.client.request(**request))


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")  # schemathesis' own
@pytest.mark.parametrize("role", ["ADMIN", "USER"])
def test_every_operation_answers_as_documented(crm: Crm, role: str) -> None:
    config = SchemathesisConfig.from_dict({"auth": {"openapi": {"bearer": {"bearer": crm.tokens[role]}}}})
    schema = schemathesis.openapi.from_dict(crm.document, config=config)
    checks = [check for check in CHECKS.get_all() if check.__name__ in CHECK_NAMES]
    assert len(checks) == len(CHECK_NAMES)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in EXCLUDED:
            continue
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @HYPOTHESIS
            @given(case=operation.as_strategy(generation_mode=mode))
            def answers_as_documented(case: Any) -> None:
                case.validate_response(send(crm, case), checks=checks)

            try:
                answers_as_documented()
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body): nothing to test
                continue
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.method.upper()} {operation.path} ({role}, {mode.value}): {exc}")
    assert operations >= 50, "the merged document lost operations"
    assert not failures, "\n\n".join(failures)
