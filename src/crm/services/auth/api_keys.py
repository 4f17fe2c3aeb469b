"""API keys for integrations: an ADMIN creates one for a role (shown once, kept as a SHA-256 with a short
prefix to find it), an integration exchanges it for a short-lived access token of that role, and a revoked key
stops at once: it obtains no more tokens, and every process refuses those it obtained (API_KEY_REVOKED).
Every step is audited."""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select

from crm.contracts import EventType, make_event
from crm.contracts.payloads.users import ApiKeyRevoked
from crm.contracts.roles import Role
from crm.platform.errors import NotFound
from crm.platform.pagination import Sortable, paginate
from crm.platform.revocations import Revocation
from crm.platform.security import API_KEY_SUBJECT, IssuedToken, Principal, TokenIssuer
from crm.platform.unit_of_work import Tx
from crm.services.auth import audit
from crm.services.auth.audit import Action
from crm.services.auth.models import ApiKey
from crm.services.auth.sessions import SOURCE, digest

# crm_<12 hex: the lookup prefix>_<43 url-safe characters: 256 random bits>
_KEY = re.compile(r"^crm_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$")


async def create(
    tx: Tx, name: str, role: Role, actor: Principal, ip: str | None = None
) -> tuple[ApiKey, str]:
    """A new key; returns the row and the key itself (the only time it exists outside the caller's hands)."""
    prefix = secrets.token_hex(6)
    key = f"crm_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        id=str(uuid.uuid4()),
        name=name.strip(),
        role=role.value,
        prefix=prefix,
        key_hash=digest(key),
        created_by=actor.id,
        created_at=datetime.now(UTC),
    )
    tx.session.add(row)
    await tx.session.flush()
    await audit.record(
        tx,
        Action.API_KEY_CREATED,
        actor_id=actor.id,
        actor_email=actor.email or None,
        target_id=row.id,
        ip=ip,
        name=row.name,
        role=row.role,
        prefix=prefix,
    )
    return row, key


API_KEY_SORT = Sortable(
    columns={
        "name": func.lower(ApiKey.name),
        "createdAt": ApiKey.created_at,
        "lastUsedAt": ApiKey.last_used_at,
    },
    tiebreak=ApiKey.id,
    default=(ApiKey.created_at.desc(), ApiKey.id),
)


async def list_keys(
    tx: Tx, actor: Principal, *, limit: int, offset: int, ip: str | None = None, sort: str | None = None
) -> tuple[Sequence[ApiKey], int]:
    """A page of every key, newest first (or by ``sort``, an API_KEY_SORT value), and the total; the
    listing is audited."""
    page = await paginate(tx.session, select(ApiKey), API_KEY_SORT.order(sort), limit=limit, offset=offset)
    await audit.record(tx, Action.API_KEYS_LISTED, actor_id=actor.id, actor_email=actor.email or None, ip=ip)
    return page


async def revoke(tx: Tx, key_id: str, actor: Principal, ip: str | None = None) -> Revocation | None:
    """Revoke a key (NotFound if unknown); publishes API_KEY_REVOKED. Idempotent: None if already revoked."""
    row = await tx.session.get(ApiKey, key_id)
    if row is None:
        raise NotFound("API key not found")
    if row.revoked_at is not None:
        return None
    now = datetime.now(UTC)
    row.revoked_at = now
    await audit.record(
        tx,
        Action.API_KEY_REVOKED,
        actor_id=actor.id,
        actor_email=actor.email or None,
        target_id=row.id,
        ip=ip,
        name=row.name,
        prefix=row.prefix,
    )
    payload = ApiKeyRevoked(api_key_id=row.id, name=row.name, revoked_by=actor.id, revoked_at=now)
    await tx.emit(make_event(EventType.API_KEY_REVOKED, payload, subject=row.id, source=SOURCE))
    return Revocation.of_subject(row.id, now)


async def exchange(tx: Tx, key: str, issuer: TokenIssuer, ip: str | None = None) -> IssuedToken | None:
    """An access token of the key's role for a valid, unrevoked key; None otherwise (audited either way:
    commit, then refuse with one generic message)."""
    match = _KEY.match(key)
    row = None
    if match is not None:
        row = await tx.session.scalar(select(ApiKey).where(ApiKey.prefix == match.group(1)))
    # Compare the digests in constant time, and spend the same work when there is no such key.
    expected = row.key_hash if row is not None else digest("no-such-key")
    valid = hmac.compare_digest(expected, digest(key)) and row is not None and row.revoked_at is None
    if not valid or row is None:
        await audit.record(
            tx,
            Action.API_KEY_REFUSED,
            target_id=row.id if row is not None else None,
            ip=ip,
            reason="revoked" if row is not None and row.revoked_at is not None else "invalid",
        )
        return None
    row.last_used_at = datetime.now(UTC)
    issued = issuer.issue_token(user_id=row.id, email="", role=row.role, name=row.name, kind=API_KEY_SUBJECT)
    await audit.record(
        tx,
        Action.API_KEY_USED,
        actor_id=row.id,
        target_id=row.id,
        ip=ip,
        name=row.name,
        tokenId=issued.token_id,
    )
    return issued
