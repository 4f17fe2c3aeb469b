"""One OpenAPI document for the whole CRM: every service's document, fetched through its upstream (in-process
or HTTP alike) and merged. Schema names that two services use for different shapes are prefixed with the
service name, and that service's ``$ref`` s rewritten."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.types import ASGIApp, Message

from crm.services.gateway.edge_auth import PUBLIC_API_PATHS

CACHE_SECONDS = 60.0


async def fetch_json(app: ASGIApp, path: str) -> Any:
    """GET ``path`` from an ASGI callable and decode its JSON body."""
    chunks: list[bytes] = []
    status = 0
    asked = False
    done = asyncio.Event()

    async def receive() -> Message:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()  # like a server: nothing more until the exchange is over
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"accept", b"application/json")],
        "client": ("127.0.0.1", 0),
        "server": ("gateway", 80),
    }
    try:
        await app(scope, receive, send)
    finally:
        done.set()
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}")
    return orjson.loads(b"".join(chunks))


def merge(documents: Mapping[str, dict[str, Any]], *, title: str, version: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    tags: dict[str, dict[str, Any]] = {}
    for service, document in sorted(documents.items()):
        own = document.get("components", {}).get("schemas", {})
        renames = {
            name: f"{service}_{name}"
            for name, body in own.items()
            if name in schemas and schemas[name] != body
        }
        if renames:
            document = _rewrite_refs(document, renames)
            own = document.get("components", {}).get("schemas", {})
        for name, body in own.items():
            schemas[renames.get(name, name)] = body
        for path, operations in document.get("paths", {}).items():
            paths.setdefault(path, {}).update(operations)
            for operation in operations.values():
                _add_edge_answers(path, operation)
        for tag in document.get("tags", []):
            tags.setdefault(tag["name"], tag)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
        "security": [{"bearer": []}],
        "tags": list(tags.values()),
    }


_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
# What the gateway itself may answer before any service sees the request (the services document the rest).
_EDGE_ANSWERS = {
    "401": "Missing, invalid, expired or revoked token (`WWW-Authenticate: Bearer`)",
    "413": "Request body over 1 MB",
    "429": "Too many requests: retry after `Retry-After` seconds",
}


def _add_edge_answers(path: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    if path in PUBLIC_API_PATHS:
        operation["security"] = []  # no token needed (the document's default is the bearer token)
    else:
        responses.setdefault("401", {"description": _EDGE_ANSWERS["401"], "content": _ERROR})
    if "requestBody" in operation:
        responses.setdefault("413", {"description": _EDGE_ANSWERS["413"], "content": _ERROR})
    responses.setdefault("429", {"description": _EDGE_ANSWERS["429"], "content": _ERROR})


def _rewrite_refs(document: dict[str, Any], renames: Mapping[str, str]) -> dict[str, Any]:
    text = orjson.dumps(document).decode()
    for old, new in renames.items():
        text = text.replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
    rewritten: dict[str, Any] = orjson.loads(text)
    schemas = rewritten.get("components", {}).get("schemas", {})
    rewritten.setdefault("components", {})["schemas"] = {renames.get(k, k): v for k, v in schemas.items()}
    return rewritten


class MergedOpenApi:
    """Builds the merged document on demand and keeps it for a minute."""

    def __init__(self, upstreams: Mapping[str, ASGIApp], own_paths: Mapping[str, Any] | None = None) -> None:
        """``own_paths``: the gateway's own API routes (the live stream), added to the services' ones."""
        self.upstreams = upstreams
        self.own_paths = dict(own_paths or {})
        self._cached: tuple[float, bytes] | None = None

    async def document(self) -> bytes:
        if self._cached is not None and time.monotonic() - self._cached[0] < CACHE_SECONDS:
            return self._cached[1]
        documents: dict[str, dict[str, Any]] = {}
        for name, upstream in self.upstreams.items():
            try:
                documents[name] = await fetch_json(upstream, "/openapi.json")
            except Exception:  # noqa: S112 - a service that is down is left out of this minute's document
                continue
        merged = merge(documents, title="CRM API", version="1.0.0")
        merged["paths"] = dict(sorted({**merged["paths"], **self.own_paths}.items()))
        body = orjson.dumps(merged)
        if len(documents) == len(self.upstreams):
            self._cached = (time.monotonic(), body)
        return body


SWAGGER_SCRIPT = 'SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui", persistAuthorization: true});'
# The one inline script is allowed by its hash in the page's Content-Security-Policy (see edge.DOCS_CSP).
SWAGGER_HTML = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>CRM API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>{SWAGGER_SCRIPT}</script>
</body></html>"""
