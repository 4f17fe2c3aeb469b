"""The merged OpenAPI document the gateway serves at ``/openapi.json``, built in this process from the
embedded apps (no server, no network): what ``crm docs openapi`` writes to ``web/openapi.json`` for the web
app's typed client."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any


async def merged_document() -> dict[str, Any]:
    """The gateway's merged document; raises if a service's document cannot be read (never a partial one)."""
    from crm.modes.embedded import build_embedded
    from crm.services.gateway.openapi import fetch_json

    with tempfile.TemporaryDirectory(prefix="crm-openapi-") as data_dir:
        # An empty environment: the document depends on the code only, not on this machine's settings.
        gateway = build_embedded(Path(data_dir), {}).gateway
        for upstream in gateway.upstreams.values():
            await fetch_json(upstream, "/openapi.json")  # raises naming the service that cannot answer
        document: dict[str, Any] = json.loads(await gateway.openapi.document())
        return document


def render() -> str:
    """The document as stable, diff-friendly JSON text (sorted keys, two-space indent, final newline)."""
    document = asyncio.run(merged_document())
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
