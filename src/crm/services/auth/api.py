"""auth-service HTTP routes: parse, authorise, call the service layer, shape the answer."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from crm.platform.security import CurrentUser, Tokens
from crm.platform.web import UoW
from crm.services.auth import service
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
    async with uow() as tx:
        user = await service.register(
            tx, email=body.email, password=body.password, name=body.name, role=body.role
        )
    return _auth_response(request, user)


@router.post("/login", response_model=AuthResponse)
async def login(body: LoginRequest, request: Request, uow: UoW) -> AuthResponse:
    async with uow() as tx:
        user = await service.authenticate(tx, email=body.email, password=body.password)
    return _auth_response(request, user)


@router.get("/me", response_model=UserOut)
async def me(caller: CurrentUser, uow: UoW) -> UserOut:
    async with uow() as tx:
        user = await service.get_user(tx, caller.id)
    return UserOut.model_validate(user)
