"""Sessions: a short-lived access token with an opaque refresh token, rotation with reuse detection, and the
revocations that end them (logout, a reused refresh token, a deleted user).

A login starts a *family*; each refresh uses its token up and adds the next one. Presenting a used token again
means two parties hold the family (a stolen token): the whole family is revoked, with the access tokens it
handed out. Every revoked access token is published as TOKEN_REVOKED, so every process refuses it within a
second; the caller also applies the returned revocations to its own process's list at once.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select, update

from crm.contracts import EventType, make_event
from crm.contracts.payloads.users import TokenRevoked
from crm.platform.revocations import Revocation
from crm.platform.security import IssuedToken, Principal, TokenIssuer
from crm.platform.unit_of_work import Tx
from crm.services.auth import audit
from crm.services.auth.audit import Action
from crm.services.auth.config import AuthConfig
from crm.services.auth.models import RefreshToken, RevokedToken, User

SOURCE = "auth-service"


def digest(secret: str) -> str:
    """SHA-256 of a random secret: enough for 256 bits of entropy (no password-grade hashing needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    user: User
    access: IssuedToken
    refresh_token: str
    refresh_expires_at: datetime


@dataclass
class Refreshed:
    session: Session | None
    refused: str = ""  # the 401's message when there is no session
    revoked: list[Revocation] = field(default_factory=list)


async def start(tx: Tx, user: User, issuer: TokenIssuer, config: AuthConfig) -> Session:
    """A new family: an access token and its refresh token."""
    return await _issue(tx, user, issuer, config, family_id=str(uuid.uuid4()))


async def _issue(tx: Tx, user: User, issuer: TokenIssuer, config: AuthConfig, family_id: str) -> Session:
    access = issuer.issue_token(
        user_id=user.id, email=user.email, role=user.role, name=user.name, session_id=family_id
    )
    secret = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    tx.session.add(
        RefreshToken(
            id=str(uuid.uuid4()),
            family_id=family_id,
            user_id=user.id,
            token_hash=digest(secret),
            created_at=now,
            expires_at=now + config.refresh_ttl,
            access_token_id=access.token_id,
            access_expires_at=access.expires_at,
        )
    )
    return Session(user, access, secret, now + config.refresh_ttl)


async def refresh(
    tx: Tx, secret: str, issuer: TokenIssuer, config: AuthConfig, ip: str | None = None
) -> Refreshed:
    """The next pair for a valid, unused refresh token (the user's current role and name). A used one
    revokes its family (audited); commit the transaction either way, then refuse if there is no session."""
    row = await tx.session.scalar(select(RefreshToken).where(RefreshToken.token_hash == digest(secret)))
    now = datetime.now(UTC)
    if row is None or row.revoked_at is not None:
        return Refreshed(None, "Invalid refresh token")
    if row.used_at is not None:
        return await _reused(tx, row, ip)
    if row.expires_at <= now:
        return Refreshed(None, "Refresh token expired")
    user = await tx.session.get(User, row.user_id)
    if user is None or user.deleted_at is not None:
        return Refreshed(None, "Invalid refresh token", await revoke_family(tx, row.family_id))
    claimed = await tx.session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # a concurrent refresh used it first
        return await _reused(tx, row, ip)
    return Refreshed(await _issue(tx, user, issuer, config, row.family_id))


async def _reused(tx: Tx, row: RefreshToken, ip: str | None) -> Refreshed:
    revoked = await revoke_family(tx, row.family_id)
    await audit.record(
        tx,
        Action.REFRESH_TOKEN_REUSED,
        actor_id=row.user_id,
        target_id=row.user_id,
        ip=ip,
        family=row.family_id,
        revokedAccessTokens=len(revoked),
    )
    return Refreshed(None, "Refresh token already used: the session is revoked", revoked)


async def revoke_family(tx: Tx, family_id: str, *, user_id: str | None = None) -> list[Revocation]:
    """Revoke every refresh token of the family and every access token it handed out that may still be
    valid (each published as TOKEN_REVOKED)."""
    query = select(RefreshToken).where(RefreshToken.family_id == family_id)
    if user_id is not None:
        query = query.where(RefreshToken.user_id == user_id)
    now = datetime.now(UTC)
    revoked: list[Revocation] = []
    for row in (await tx.session.scalars(query)).all():
        if row.revoked_at is None:
            row.revoked_at = now
        if row.access_expires_at > now:
            revocation = await revoke_access_token(
                tx, row.access_token_id, row.user_id, row.access_expires_at
            )
            if revocation is not None:
                revoked.append(revocation)
    return revoked


async def revoke_access_token(tx: Tx, token_id: str, user_id: str, expires_at: datetime) -> Revocation | None:
    """Record and publish one revoked access token; None if it was revoked already (idempotent)."""
    if await tx.session.get(RevokedToken, token_id) is not None:
        return None
    tx.session.add(RevokedToken(token_id=token_id, user_id=user_id, expires_at=expires_at))
    await tx.session.flush()
    payload = TokenRevoked(token_id=token_id, user_id=user_id, expires_at=expires_at)
    await tx.emit(make_event(EventType.TOKEN_REVOKED, payload, subject=user_id, source=SOURCE))
    return Revocation.token(token_id, expires_at)


async def logout(tx: Tx, caller: Principal, ip: str | None = None) -> list[Revocation]:
    """Revoke the caller's access token and the refresh family it came from (idempotent)."""
    revoked: list[Revocation] = []
    if caller.token_id:
        expires = caller.expires_at or datetime.now(UTC)
        revocation = await revoke_access_token(tx, caller.token_id, caller.id, expires)
        revoked += [revocation] if revocation is not None else [Revocation.token(caller.token_id, expires)]
    if caller.session_id:
        revoked += await revoke_family(tx, caller.session_id, user_id=caller.id)
    await audit.record(
        tx, Action.LOGOUT, actor_id=caller.id, actor_email=caller.email or None, target_id=caller.id, ip=ip
    )
    return revoked


async def end_sessions_of(tx: Tx, user_id: str) -> None:
    """A deleted user's refresh tokens stop working (their access tokens: USER_DELETED, for every process)."""
    now = datetime.now(UTC)
    await tx.session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
