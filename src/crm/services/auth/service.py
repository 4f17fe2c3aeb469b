"""auth-service use cases: the only code that changes accounts. Each emits its event and audit row in the
caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from crm.contracts import EventType, make_event
from crm.contracts.payloads.users import UserCreated, UserDeleted, UserUpdated
from crm.contracts.roles import SELF_REGISTRATION_ROLES, Role
from crm.platform.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from crm.platform.pagination import Sortable, paginate
from crm.platform.security import Principal, hash_password, verify_password
from crm.platform.unit_of_work import Tx
from crm.services.auth import audit, sessions
from crm.services.auth.audit import Action
from crm.services.auth.models import RevokedToken, User
from crm.services.auth.schemas import UserCreate, UserUpdate

SOURCE = "auth-service"


def check_password_policy(password: str, email: str) -> None:
    """Raises Invalid naming the ``password`` field when the password is too weak."""
    if len(password) < 8:
        raise Invalid("Password too short", fields={"password": "must be at least 8 characters"})
    if password.strip().lower() == email.strip().lower():
        raise Invalid("Password equals the email", fields={"password": "must not be the email address"})


async def hashed_password(password: str, email: str) -> str:
    """Check the policy and hash (~50 ms, off the event loop). Call it before opening the transaction, so
    no database connection is held while argon2 works."""
    check_password_policy(password, email)
    return await hash_password(password)


def check_self_registration(role: Role) -> None:
    """Raises Forbidden (naming ``role``) for any role above USER/SALES."""
    if role not in SELF_REGISTRATION_ROLES:
        raise Forbidden(
            f"Self-registration cannot grant the role {role.value}",
            fields={"role": f"must be one of {', '.join(sorted(SELF_REGISTRATION_ROLES))}"},
        )


async def register(
    tx: Tx, *, email: str, password_hash: str, name: str, role: Role, ip: str | None = None
) -> User:
    """Self-registration; emits USER_CREATED. Raises Forbidden for a role above USER/SALES and Conflict if
    the email is taken."""
    check_self_registration(role)
    user = await _insert_user(tx, email=email, password_hash=password_hash, name=name, role=role)
    await audit.record(
        tx, Action.REGISTERED, actor_id=user.id, actor_email=user.email, target_id=user.id, ip=ip
    )
    return user


async def create_user(
    tx: Tx, data: UserCreate, password_hash: str, actor: Principal, ip: str | None = None
) -> User:
    """An administrator creates an account of any role; emits USER_CREATED."""
    if data.manager_id:
        await get_user(tx, data.manager_id, field="managerId")
    user = await _insert_user(
        tx,
        email=data.email,
        password_hash=password_hash,
        name=data.name,
        role=data.role,
        manager_id=data.manager_id,
    )
    await audit.record(
        tx,
        Action.USER_CREATED,
        actor_id=actor.id,
        actor_email=actor.email,
        target_id=user.id,
        ip=ip,
        role=user.role,
    )
    return user


async def _insert_user(
    tx: Tx, *, email: str, password_hash: str, name: str, role: Role, manager_id: str | None = None
) -> User:
    email = email.strip().lower()
    taken = await tx.session.scalar(select(func.count()).select_from(User).where(User.email == email))
    if taken:
        raise Conflict("This email is already registered", fields={"email": "already registered"})
    user = User(
        id=str(uuid.uuid4()),
        email=email,
        name=name.strip(),
        role=role.value,
        manager_id=manager_id,
        password_hash=password_hash,
    )
    tx.session.add(user)
    try:
        await tx.session.flush()
    except IntegrityError:
        raise Conflict("This email is already registered", fields={"email": "already registered"}) from None
    payload = UserCreated(
        user_id=user.id, email=user.email, name=user.name, role=user.role, created_at=user.created_at
    )
    await tx.emit(make_event(EventType.USER_CREATED, payload, subject=user.id, source=SOURCE))
    return user


async def find_login(tx: Tx, email: str) -> User | None:
    """The live account with this email, if any (then check the password outside the transaction)."""
    return await tx.session.scalar(
        select(User).where(User.email == email.strip().lower(), User.deleted_at.is_(None))
    )


async def check_login(user: User | None, password: str) -> User:
    """``user`` if ``password`` is theirs; Unauthorized with one generic message otherwise. Costs the same
    time whether or not the account exists."""
    if not await verify_password(user.password_hash if user else None, password) or user is None:
        raise Unauthorized("Invalid email or password")
    return user


async def get_user(tx: Tx, user_id: str, *, field: str | None = None) -> User:
    """A live account; NotFound (or Invalid naming ``field`` when it came from a request body)."""
    user = await tx.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        if field:
            raise Invalid("Unknown user", fields={field: "no such user"})
        raise NotFound("User not found")
    return user


USER_SORT = Sortable(
    columns={
        "name": func.lower(User.name),
        "email": User.email,
        "role": User.role,
        "createdAt": User.created_at,
    },
    tiebreak=User.id,
    default=(User.created_at, User.id),
)


async def list_users(
    tx: Tx,
    *,
    limit: int,
    offset: int,
    q: str | None = None,
    role: str | None = None,
    sort: str | None = None,
) -> tuple[Sequence[User], int]:
    """A page of the live accounts, oldest first (or by ``sort``, a USER_SORT value), and the total."""
    query = select(User).where(User.deleted_at.is_(None))
    if q:
        needle = q.strip().lower()  # a substring, matched literally: `%` and `_` are no wildcards
        query = query.where(
            or_(
                func.lower(User.name).contains(needle, autoescape=True),
                User.email.contains(needle, autoescape=True),
            )
        )
    if role:
        query = query.where(User.role == role)
    return await paginate(tx.session, query, USER_SORT.order(sort), limit=limit, offset=offset)


async def update_user(
    tx: Tx, user_id: str, data: UserUpdate, actor: Principal, ip: str | None = None
) -> User:
    """Change name, role or manager; emits USER_UPDATED. The last ADMIN cannot be demoted (409)."""
    user = await get_user(tx, user_id)
    changed: list[str] = []
    if data.name is not None and data.name.strip() != user.name:
        user.name, changed = data.name.strip(), [*changed, "name"]
    if "manager_id" in data.model_fields_set and data.manager_id != user.manager_id:
        if data.manager_id == user.id:
            raise Invalid("A user cannot manage themselves", fields={"managerId": "must be another user"})
        if data.manager_id:
            await get_user(tx, data.manager_id, field="managerId")
        user.manager_id, changed = data.manager_id, [*changed, "managerId"]
    if data.role is not None and data.role.value != user.role:
        if user.role == Role.ADMIN and await _admins(tx) <= 1:
            raise Conflict("The last administrator cannot lose the ADMIN role", fields={"role": "last ADMIN"})
        await audit.record(
            tx,
            Action.ROLE_CHANGED,
            actor_id=actor.id,
            actor_email=actor.email,
            target_id=user.id,
            ip=ip,
            **{"from": user.role, "to": data.role.value},
        )
        user.role, changed = data.role.value, [*changed, "role"]
    if changed:
        await tx.session.flush()
        await audit.record(
            tx,
            Action.USER_UPDATED,
            actor_id=actor.id,
            actor_email=actor.email,
            target_id=user.id,
            ip=ip,
            changed=changed,
        )
        payload = UserUpdated(
            user_id=user.id, email=user.email, name=user.name, role=user.role, changed=changed
        )
        await tx.emit(make_event(EventType.USER_UPDATED, payload, subject=user.id, source=SOURCE))
    return user


async def delete_user(tx: Tx, user_id: str, actor: Principal, ip: str | None = None) -> None:
    """Delete an account and emit USER_DELETED naming who inherits its customers (the user's manager, else
    the longest-standing ADMIN). Refuses to delete yourself or the last ADMIN (409)."""
    user = await get_user(tx, user_id)
    if user.id == actor.id:
        raise Conflict("You cannot delete your own account")
    if user.role == Role.ADMIN and await _admins(tx) <= 1:
        raise Conflict("The last administrator cannot be deleted")
    heir = await _heir(tx, user)
    email = user.email
    user.deleted_at = datetime.now(UTC)
    user.email = f"deleted-{user.id}@deleted.invalid"  # frees the address; the audit row keeps it
    user.password_hash = "!"  # noqa: S105 - matches no password
    await audit.record(
        tx,
        Action.USER_DELETED,
        actor_id=actor.id,
        actor_email=actor.email,
        target_id=user.id,
        ip=ip,
        email=email,
        reassignTo=heir,
    )
    await sessions.end_sessions_of(tx, user.id)
    # USER_DELETED also makes every process refuse the tokens the user still holds.
    payload = UserDeleted(user_id=user.id, email=email, deleted_by=actor.id, reassign_to=heir)
    await tx.emit(make_event(EventType.USER_DELETED, payload, subject=user.id, source=SOURCE))


async def _heir(tx: Tx, user: User) -> str | None:
    if user.manager_id:
        manager = await tx.session.get(User, user.manager_id)
        if manager is not None and manager.deleted_at is None:
            return manager.id
    return await tx.session.scalar(
        select(User.id)
        .where(User.role == Role.ADMIN, User.deleted_at.is_(None), User.id != user.id)
        .order_by(User.created_at)
        .limit(1)
    )


async def _admins(tx: Tx) -> int:
    count = await tx.session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.deleted_at.is_(None))
    )
    return int(count or 0)


async def ensure_live_session(tx: Tx, caller: Principal) -> User:
    """The caller's account, if their token was not revoked and the account still exists (401 otherwise)."""
    if caller.token_id and await tx.session.get(RevokedToken, caller.token_id) is not None:
        raise Unauthorized("Token revoked")
    user = await tx.session.get(User, caller.id)
    if user is None or user.deleted_at is not None:
        raise Unauthorized("Account no longer exists")
    return user


async def bootstrap_admin(tx: Tx, email: str, password_hash: str) -> User | None:
    """On a database with no users, create the first ADMIN. Returns it, or None if users exist."""
    if await tx.session.scalar(select(func.count()).select_from(User)):
        return None
    return await _insert_user(
        tx, email=email, password_hash=password_hash, name="Administrator", role=Role.ADMIN
    )
