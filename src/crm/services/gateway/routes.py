"""Which service owns which ``/api`` area: the gateway's whole routing table."""

from __future__ import annotations

ROUTES: dict[str, str] = {
    "auth": "auth",
    "customers": "customer",
    "meetings": "sales_activity",
    "tasks": "sales_activity",
    "opportunities": "opportunity",
    "approvals": "opportunity",
    "reports": "analytics",
    "notifications": "analytics",
    "metrics": "analytics",
}


def service_for(path: str) -> str | None:
    """The service owning ``path`` (``/api/customers/42`` → ``customer``), or None."""
    if not path.startswith("/api/"):
        return None
    area = path[5:].split("/", 1)[0]
    return ROUTES.get(area)
