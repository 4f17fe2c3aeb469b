"""auth-service use cases: the only code that changes accounts."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crm.contracts import EventType, make_event
from crm.contracts.payloads.users import UserCreated
from crm.contracts.roles import SELF_REGISTRATION_ROLES, Role
from crm.platform.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from crm.platform.security import hash_password, verify_password
from crm.platform.unit_of_work import Tx
from crm.services.auth.models import User

SOURCE = "auth-service"


def check_password_policy(password: str, email: str) -> None:
    """Raises Invalid naming the ``password`` field when the password is too weak."""
    if len(password) < 8:
        raise Invalid("Password too short", fields={"password": "must be at least 8 characters"})
    if password.strip().lower() == email.strip().lower():
        raise Invalid("Password equals the email", fields={"password": "must not be the email address"})


async def register(tx: Tx, *, email: str, password: str, name: str, role: Role) -> User:
    """Create an account from self-registration and emit USER_CREATED. Raises Forbidden for a role above
    USER/SALES, Invalid for a weak password, Conflict if the email is taken."""
    if role not in SELF_REGISTRATION_ROLES:
        raise Forbidden(
            f"Self-registration cannot grant the role {role.value}",
            fields={"role": f"must be one of {', '.join(sorted(SELF_REGISTRATION_ROLES))}"},
        )
    return await create_user(tx, email=email, password=password, name=name, role=role)


async def create_user(tx: Tx, *, email: str, password: str, name: str, role: Role) -> User:
    email = email.strip().lower()
    check_password_policy(password, email)
    existing = await tx.session.scalar(select(func.count()).select_from(User).where(User.email == email))
    if existing:
        raise Conflict("This email is already registered", fields={"email": "already registered"})
    user = User(
        id=str(uuid.uuid4()),
        email=email,
        name=name.strip(),
        role=role.value,
        password_hash=await hash_password(password),
    )
    tx.session.add(user)
    try:
        await tx.session.flush()
    except IntegrityError:
        raise Conflict("This email is already registered", fields={"email": "already registered"}) from None
    await tx.session.refresh(user)
    payload = UserCreated(
        user_id=user.id, email=user.email, name=user.name, role=user.role, created_at=user.created_at
    )
    await tx.emit(make_event(EventType.USER_CREATED, payload, subject=user.id, source=SOURCE))
    return user


async def authenticate(tx: Tx, *, email: str, password: str) -> User:
    """The account for these credentials; raises Unauthorized with one generic message either way."""
    user = await tx.session.scalar(select(User).where(User.email == email.strip().lower()))
    if not await verify_password(user.password_hash if user else None, password) or user is None:
        raise Unauthorized("Invalid email or password")
    return user


async def get_user(tx: Tx, user_id: str) -> User:
    user = await tx.session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    return user
