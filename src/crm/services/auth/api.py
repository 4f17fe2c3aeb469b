"""auth-service HTTP routes for a session: register, login, logout, me."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from crm.platform.errors import Unauthorized
from crm.platform.security import CurrentUser, Tokens
from crm.platform.web import UoW, client_ip
from crm.services.auth import audit, service
from crm.services.auth.audit import Action
from crm.services.auth.models import User
from crm.services.auth.schemas import AuthResponse, LoginRequest, RegisterRequest, UserOut

router = APIRouter(prefix="/api/auth", tags=["auth"])


def _auth_response(request: Request, user: User) -> AuthResponse:
    tokens: Tokens = request.app.state.tokens
    token = tokens.issue(user_id=user.id, email=user.email, role=user.role, name=user.name)
    return AuthResponse(
        token=token, expires_in=int(tokens.ttl.total_seconds()), user=UserOut.model_validate(user)
    )


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=AuthResponse)
async def register(body: RegisterRequest, request: Request, uow: UoW) -> AuthResponse:
    """Self-registration (role USER or SALES only). Publishes USER_CREATED."""
    service.check_self_registration(body.role)
    password_hash = await service.hashed_password(body.password, body.email)
    async with uow() as tx:
        user = await service.register(
            tx,
            email=body.email,
            password_hash=password_hash,
            name=body.name,
            role=body.role,
            ip=client_ip(request),
        )
    return _auth_response(request, user)


@router.post("/login", response_model=AuthResponse)
async def login(body: LoginRequest, request: Request, uow: UoW) -> AuthResponse:
    """A token for valid credentials; one generic 401 otherwise (no account enumeration)."""
    ip = client_ip(request)
    async with uow() as tx:
        candidate = await service.find_login(tx, body.email)
    try:
        user = await service.check_login(candidate, body.password)
    except Unauthorized:
        async with uow() as tx:
            await audit.record(
                tx,
                Action.LOGIN_FAILED,
                actor_email=body.email.lower(),
                target_id=candidate.id if candidate else None,
                ip=ip,
            )
        raise
    async with uow() as tx:
        await audit.record(tx, Action.LOGIN_SUCCEEDED, actor_id=user.id, actor_email=user.email, ip=ip)
    return _auth_response(request, user)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(caller: CurrentUser, request: Request, uow: UoW) -> Response:
    """Revoke the caller's token."""
    async with uow() as tx:
        await service.revoke(tx, caller, client_ip(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=UserOut)
async def me(caller: CurrentUser, uow: UoW) -> UserOut:
    async with uow() as tx:
        user = await service.ensure_live_session(tx, caller)
    return UserOut.model_validate(user)
