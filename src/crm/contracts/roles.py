"""Roles carried in access tokens; every service checks them."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "ADMIN"
    MANAGER = "MANAGER"
    SALES = "SALES"
    COMPLIANCE = "COMPLIANCE"
    USER = "USER"


SELF_REGISTRATION_ROLES = frozenset({Role.USER, Role.SALES})
# Roles that see every customer, deal and activity, not only their own.
SEES_ALL = frozenset({Role.ADMIN, Role.MANAGER, Role.COMPLIANCE})
# Roles that may change data; COMPLIANCE reads everything and changes nothing.
WRITERS = frozenset(Role) - {Role.COMPLIANCE}
