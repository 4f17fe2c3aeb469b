"""auth-service HTTP routes for a session: register, login, refresh, logout, me; an integration's API key
exchanged for a token; the public keys that verify tokens."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response, status
from fastapi.responses import JSONResponse

from crm.platform.errors import Unauthorized
from crm.platform.responses import errors
from crm.platform.revocations import Revocation
from crm.platform.runtime import ServiceRuntime
from crm.platform.security import CurrentUser, IssuedToken, TokenIssuer
from crm.platform.web import UoW, client_ip, error_body
from crm.services.auth import api_keys, audit, service, sessions, throttle
from crm.services.auth.audit import Action
from crm.services.auth.config import AuthConfig
from crm.services.auth.schemas import (
    AuthResponse,
    Jwks,
    LoginRequest,
    RefreshRequest,
    RegisterRequest,
    TokenRequest,
    TokenResponse,
    UserOut,
)

router = APIRouter(prefix="/api/auth", tags=["auth"])


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def issuer_of(request: Request) -> TokenIssuer:
    return runtime_of(request).tokens


def config_of(request: Request) -> AuthConfig:
    config: AuthConfig = runtime_of(request).config
    return config


def revoke_here(request: Request, revocations: Iterable[Revocation | None]) -> None:
    """Refuse at once in this process what the committed events will tell every other process."""
    local = runtime_of(request).security.revocations
    if local is not None:
        for revocation in revocations:
            if revocation is not None:
                local.add(revocation)


def _auth_response(request: Request, session: sessions.Session) -> AuthResponse:
    return AuthResponse(
        token=session.access.token,
        expires_in=int(issuer_of(request).ttl.total_seconds()),
        refresh_token=session.refresh_token,
        refresh_expires_in=int(config_of(request).refresh_ttl.total_seconds()),
        user=UserOut.model_validate(session.user),
    )


def too_many(retry_after: int) -> JSONResponse:
    return JSONResponse(
        error_body("too_many_requests", "Too many failed attempts: try again later"),
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(retry_after)},
    )


@router.post(
    "/register", status_code=status.HTTP_201_CREATED, response_model=AuthResponse, responses=errors(403, 409)
)
async def register(body: RegisterRequest, request: Request, uow: UoW) -> AuthResponse:
    """Self-registration (role USER or SALES only). Publishes USER_CREATED; starts a session."""
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
        session = await sessions.start(tx, user, issuer_of(request), config_of(request))
    return _auth_response(request, session)


@router.post("/login", response_model=AuthResponse, responses=errors(401, 429))
async def login(body: LoginRequest, request: Request, uow: UoW) -> Any:
    """A session for valid credentials; one generic 401 otherwise (no account enumeration). Too many failures
    for the account or the client IP: 429 with ``Retry-After``."""
    ip, config = client_ip(request), config_of(request)
    async with uow() as tx:
        wait = await throttle.retry_after(tx, config, email=body.email, ip=ip)
        if wait is not None:
            await audit.record(
                tx, Action.LOGIN_THROTTLED, actor_email=body.email.lower(), ip=ip, retryAfter=wait
            )
            candidate = None
        else:
            candidate = await service.find_login(tx, body.email)
    if wait is not None:
        return too_many(wait)
    try:
        user = await service.check_login(candidate, body.password)
    except Unauthorized:
        async with uow() as tx:
            await throttle.record_failure(tx, config, email=body.email, ip=ip)
            await audit.record(
                tx,
                Action.LOGIN_FAILED,
                actor_email=body.email.lower(),
                target_id=candidate.id if candidate else None,
                ip=ip,
            )
        raise
    async with uow() as tx:
        await throttle.clear_account(tx, user.email)
        await audit.record(tx, Action.LOGIN_SUCCEEDED, actor_id=user.id, actor_email=user.email, ip=ip)
        session = await sessions.start(tx, user, issuer_of(request), config_of(request))
    return _auth_response(request, session)


@router.post("/refresh", response_model=AuthResponse, responses=errors(401))
async def refresh(body: RefreshRequest, request: Request, uow: UoW) -> AuthResponse:
    """A new access token and refresh token for a refresh token, which is used up. Presenting a used one again
    revokes the whole session (reuse detection)."""
    async with uow() as tx:
        outcome = await sessions.refresh(
            tx, body.refresh_token, issuer_of(request), config_of(request), client_ip(request)
        )
    revoke_here(request, outcome.revoked)
    if outcome.session is None:
        raise Unauthorized(outcome.refused)
    return _auth_response(request, outcome.session)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(caller: CurrentUser, request: Request, uow: UoW) -> Response:
    """Revoke the caller's access token (refused everywhere within a second) and its refresh tokens."""
    async with uow() as tx:
        revoked = await sessions.logout(tx, caller, client_ip(request))
    revoke_here(request, revoked)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=UserOut)
async def me(caller: CurrentUser, uow: UoW) -> UserOut:
    async with uow() as tx:
        user = await service.ensure_live_session(tx, caller)
    return UserOut.model_validate(user)


@router.post("/token", response_model=TokenResponse, responses=errors(401, 429))
async def token(
    request: Request,
    uow: UoW,
    body: TokenRequest | None = None,
    x_api_key: Annotated[str | None, Header(alias="X-API-Key", max_length=200)] = None,
) -> Any:
    """An integration's API key (body ``apiKey`` or header ``X-API-Key``) for a short-lived access token of
    the key's role. A revoked or unknown key: 401."""
    key = (body.api_key if body is not None else None) or x_api_key
    if not key:
        raise Unauthorized("API key required", fields={"apiKey": "required (or the X-API-Key header)"})
    ip, config = client_ip(request), config_of(request)
    issued: IssuedToken | None = None
    async with uow() as tx:
        wait = await throttle.retry_after(tx, config, email=None, ip=ip)
        if wait is not None:
            await audit.record(tx, Action.API_KEY_REFUSED, ip=ip, reason="throttled", retryAfter=wait)
        else:
            issued = await api_keys.exchange(tx, key, issuer_of(request), ip)
            if issued is None:
                await throttle.record_failure(tx, config, email=None, ip=ip)
    if wait is not None:
        return too_many(wait)
    if issued is None:
        raise Unauthorized("Invalid API key")
    return TokenResponse(token=issued.token, expires_in=int(issuer_of(request).ttl.total_seconds()))


@router.get("/.well-known/jwks.json", response_model=Jwks)
async def jwks(request: Request) -> JSONResponse:
    """The public keys that verify access tokens (EdDSA), for the other services and the gateway."""
    return JSONResponse(issuer_of(request).jwks(), headers={"Cache-Control": "public, max-age=30"})
