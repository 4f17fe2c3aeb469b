"""auth-service tables (its own database only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from crm.platform.inbox import inbox_table
from crm.platform.outbox import outbox_table
from crm.platform.types import UtcDateTime, utcnow


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    manager_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RevokedToken(Base):
    """Access tokens ended by logout before their expiry (kept until they would have expired)."""

    __tablename__ = "revoked_tokens"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditEvent(Base):
    """Security events: logins, failed logins, role changes, deletions. Append-only."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_at", "at"), Index("ix_audit_action", "action"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[str | None] = mapped_column(String(36))
    actor_email: Mapped[str | None] = mapped_column(String(320))
    target_id: Mapped[str | None] = mapped_column(String(36))
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class SigningKeyRow(Base):
    """auth's Ed25519 signing keys (EdDSA mode): made at first start and by ``crm auth rotate-key``."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # stops signing then


class RefreshToken(Base):
    """One refresh token (only its SHA-256 is kept). A login starts a family; each refresh uses one token up
    and adds the next to the family. Presenting a used one again revokes the whole family."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_family", "family_id"), Index("ix_refresh_user", "user_id"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(36))
    user_id: Mapped[str] = mapped_column(String(36))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # exchanged for the next pair
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The access token handed out with it, revoked with the family while it may still be valid.
    access_token_id: Mapped[str] = mapped_column(String(64))
    access_expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiKey(Base):
    """An integration's key: shown once, kept as a SHA-256; ``prefix`` finds the row without the secret."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LoginFailure(Base):
    """A failed login, counted per account (the email given) and per client IP, in the database so every
    auth instance throttles alike. Rows older than the throttling window are deleted as new ones come."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_key", "scope", "key", "at"),
        Index("ix_login_failures_at", "at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))  # "account" or "ip"
    key: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


OUTBOX = outbox_table(Base.metadata)
INBOX = inbox_table(Base.metadata)
