"""auth-service HTTP routes for integrations' API keys (ADMIN): create (the key shown once), list, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from crm.contracts.roles import Role
from crm.platform.pagination import SORT_DESCRIPTION
from crm.platform.schemas import Limit, Offset, Page
from crm.platform.security import Principal, require_roles
from crm.platform.web import UoW, client_ip
from crm.services.auth import api_keys
from crm.services.auth.api import revoke_here
from crm.services.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, ApiKeySort

router = APIRouter(prefix="/api/auth/api-keys", tags=["api keys"])
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
async def create_api_key(body: ApiKeyCreate, admin: Admin, request: Request, uow: UoW) -> ApiKeyCreated:
    """A key for an integration acting with ``role``. The key is in this response only: store it now."""
    async with uow() as tx:
        row, key = await api_keys.create(tx, body.name, body.role, admin, client_ip(request))
    return ApiKeyCreated.model_validate({**ApiKeyOut.model_validate(row).model_dump(), "key": key})


@router.get("", response_model=Page[ApiKeyOut])
async def list_api_keys(
    admin: Admin,
    request: Request,
    uow: UoW,
    limit: Limit = 50,
    offset: Offset = 0,
    sort: Annotated[ApiKeySort | None, Query(description=f"{SORT_DESCRIPTION}; newest first without")] = None,
) -> Page[ApiKeyOut]:
    """Every key, newest first, without its secret (which is never kept)."""
    async with uow() as tx:
        rows, total = await api_keys.list_keys(
            tx, admin, limit=limit, offset=offset, ip=client_ip(request), sort=sort
        )
    return Page[ApiKeyOut](
        items=[ApiKeyOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(key_id: str, admin: Admin, request: Request, uow: UoW) -> Response:
    """Revoke a key: it obtains no more tokens, and the tokens it obtained are refused everywhere at once."""
    async with uow() as tx:
        revocation = await api_keys.revoke(tx, key_id, admin, client_ip(request))
    revoke_here(request, [revocation])
    return Response(status_code=status.HTTP_204_NO_CONTENT)
