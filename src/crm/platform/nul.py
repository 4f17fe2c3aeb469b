"""No NUL character reaches the database: PostgreSQL can neither store nor compare one in text (the driver
raises, which would be a 500), so a request carrying one in its path, query or JSON body is refused with a 422
naming the field. One dependency of every service app; it costs a substring test per request when there is
none."""

from __future__ import annotations

import contextlib
import re
from typing import Any

import orjson
from fastapi import Request

from crm.platform.errors import Invalid

PROBLEM = "must not contain NUL characters"
# ``\u0000`` in JSON text, not preceded by an escaped backslash (``\\u0000`` is the six characters "\u0000").
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


async def refuse_nul(request: Request) -> None:
    """Raises :class:`Invalid` (422) naming each field that holds a NUL character."""
    scope = request.scope
    fields: dict[str, str] = {}
    if b"%00" in scope["query_string"]:
        fields.update(
            {name: PROBLEM for name, value in request.query_params.multi_items() if "\x00" in value}
        )
    if "\x00" in scope["path"]:
        in_path = {name: PROBLEM for name, value in request.path_params.items() if "\x00" in str(value)}
        fields.update(in_path or {"path": PROBLEM})
    if request.method in ("POST", "PUT", "PATCH"):
        body = await request.body()  # read once: FastAPI parses the same cached bytes
        if b"\\u0000" in body and _JSON_NUL.search(body):
            with contextlib.suppress(orjson.JSONDecodeError):  # not JSON: its own validation answers
                found = _nul_paths(orjson.loads(body), "")
                fields.update({name: PROBLEM for name in found} or {"body": PROBLEM})
    if fields:
        raise Invalid("The request has invalid fields", fields=fields)


def _nul_paths(value: Any, path: str) -> list[str]:
    """The dotted paths (``items.0.name``) of the strings, and keys, in ``value`` that hold a NUL."""
    if isinstance(value, str):
        return [path or "body"] if "\x00" in value else []
    if isinstance(value, dict):
        found: list[str] = []
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            found += [child] if "\x00" in key else _nul_paths(item, child)
        return found
    if isinstance(value, list):
        return [
            p
            for index, item in enumerate(value)
            for p in _nul_paths(item, f"{path}.{index}" if path else str(index))
        ]
    return []
