"""The error answers in the OpenAPI documents: every error a route can give is declared, with the one error
shape (``crm.platform.errors``), so a client (and schemathesis) knows them all.

``declare_errors(router)`` adds what a route's signature already tells: 401 when it reads the caller's token,
403 when it checks a role, 404 when it takes an id in its path, 400 when it takes a body (not UTF-8 JSON),
422 (our shape, not FastAPI's) when it takes input.
A route adds what only its code knows with ``responses=errors(409)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

DESCRIPTIONS = {
    400: "Malformed request",
    401: "Missing, invalid, expired or revoked token (`WWW-Authenticate: Bearer`)",
    403: "The caller's role may not do this",
    404: "No such resource (also when the caller may not see it)",
    409: "The resource's state does not allow this",
    413: "Request body over 1 MB",
    422: "Invalid input: `fields` names each bad field",
    429: "Too many requests: retry after `Retry-After` seconds",
    503: "A dependency is unavailable: retry after `Retry-After` seconds",
}
ROLE_CHECK = "_crm_roles"  # the attribute ``require_roles`` puts on its dependency


class ErrorOut(BaseModel):
    """Every error: a stable ``error`` code, a human ``message``, the request's id, and the bad fields."""

    error: str
    message: str
    requestId: str | None = None
    fields: dict[str, str] | None = None


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status answered with :class:`ErrorOut`."""
    return {code: {"model": ErrorOut, "description": DESCRIPTIONS[code]} for code in statuses}


def declare_errors(router: APIRouter) -> None:
    """Declare on each route of ``router`` the errors its signature implies (see the module's docstring);
    the route's own ``responses=`` win. Idempotent; call it before the router is included in an app."""
    from crm.platform.security import current_principal

    for route in router.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        calls = [dependant.call for dependant in _walk(route.dependant)]
        implied: list[int] = []
        if current_principal in calls:
            implied.append(401)
        if any(hasattr(call, ROLE_CHECK) for call in calls):
            implied.append(403)
        if route.param_convertors:
            implied.append(404)
        if route.dependant.body_params:
            implied.append(400)  # a body that is not UTF-8 JSON
        if route.dependant.query_params or route.dependant.path_params or route.dependant.body_params:
            implied.append(422)
        route.responses = {**errors(*implied), **route.responses}


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    for child in dependant.dependencies:
        yield child
        yield from _walk(child)
