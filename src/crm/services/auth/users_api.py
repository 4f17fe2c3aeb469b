"""auth-service HTTP routes for administrators: accounts (ADMIN) and the audit log (ADMIN, COMPLIANCE)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from crm.contracts.roles import Role
from crm.platform.pagination import SORT_DESCRIPTION
from crm.platform.responses import errors
from crm.platform.revocations import Revocation
from crm.platform.schemas import Limit, Offset, Page
from crm.platform.security import Principal, require_roles
from crm.platform.web import UoW, client_ip
from crm.services.auth import audit, service
from crm.services.auth.api import revoke_here
from crm.services.auth.schemas import AuditOut, AuditSort, UserCreate, UserOut, UserSort, UserUpdate

router = APIRouter(prefix="/api/auth", tags=["users"])
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
Auditor = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.COMPLIANCE))]


@router.get("/users", response_model=Page[UserOut])
async def list_users(
    _admin: Admin,
    uow: UoW,
    limit: Limit = 50,
    offset: Offset = 0,
    q: Annotated[str | None, Query(max_length=200)] = None,
    role: Role | None = None,
    sort: Annotated[UserSort | None, Query(description=f"{SORT_DESCRIPTION}; oldest first without")] = None,
) -> Page[UserOut]:
    async with uow() as tx:
        rows, total = await service.list_users(tx, limit=limit, offset=offset, q=q, role=role, sort=sort)
    return Page[UserOut](
        items=[UserOut.model_validate(u) for u in rows], total=total, limit=limit, offset=offset
    )


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=UserOut, responses=errors(409))
async def create_user(body: UserCreate, admin: Admin, request: Request, uow: UoW) -> UserOut:
    """Create an account of any role. Publishes USER_CREATED."""
    password_hash = await service.hashed_password(body.password, body.email)
    async with uow() as tx:
        user = await service.create_user(tx, body, password_hash, admin, client_ip(request))
    return UserOut.model_validate(user)


@router.get("/users/{user_id}", response_model=UserOut)
async def get_user(user_id: str, _admin: Admin, uow: UoW) -> UserOut:
    async with uow() as tx:
        user = await service.get_user(tx, user_id)
    return UserOut.model_validate(user)


@router.patch("/users/{user_id}", response_model=UserOut, responses=errors(409))
async def update_user(user_id: str, body: UserUpdate, admin: Admin, request: Request, uow: UoW) -> UserOut:
    """Change name, role or manager. Publishes USER_UPDATED."""
    async with uow() as tx:
        user = await service.update_user(tx, user_id, body, admin, client_ip(request))
    return UserOut.model_validate(user)


@router.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(409))
async def delete_user(user_id: str, admin: Admin, request: Request, uow: UoW) -> Response:
    """Delete an account. Publishes USER_DELETED: their customers are reassigned, open work cancelled, and
    the tokens they hold refused everywhere."""
    async with uow() as tx:
        await service.delete_user(tx, user_id, admin, client_ip(request))
    revoke_here(request, [Revocation.of_subject(user_id, datetime.now(UTC))])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/audit", response_model=Page[AuditOut])
async def audit_log(
    _auditor: Auditor,
    uow: UoW,
    limit: Limit = 50,
    offset: Offset = 0,
    action: Annotated[audit.Action | None, Query()] = None,
    actor_id: Annotated[str | None, Query(alias="actorId", max_length=36)] = None,
    target_id: Annotated[str | None, Query(alias="targetId", max_length=36)] = None,
    sort: Annotated[AuditSort | None, Query(description=f"{SORT_DESCRIPTION}; newest first without")] = None,
) -> Page[AuditOut]:
    async with uow() as tx:
        rows, total = await audit.list_events(
            tx,
            limit=limit,
            offset=offset,
            action=action,
            actor_id=actor_id,
            target_id=target_id,
            sort=sort,
        )
    return Page[AuditOut](
        items=[AuditOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )
