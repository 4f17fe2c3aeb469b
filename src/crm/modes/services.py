"""The registry of the five services: name → spec. The one place that imports every service."""

from __future__ import annotations

from crm.platform.runtime import ServiceSpec
from crm.services.analytics.app import SPEC as ANALYTICS
from crm.services.auth.app import SPEC as AUTH
from crm.services.customer.app import SPEC as CUSTOMER
from crm.services.opportunity.app import SPEC as OPPORTUNITY
from crm.services.sales_activity.app import SPEC as SALES_ACTIVITY

SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec for spec in (AUTH, CUSTOMER, SALES_ACTIVITY, OPPORTUNITY, ANALYTICS)
}
ALL_NAMES = [*SERVICES, "gateway"]


def normalise(name: str) -> str:
    """``sales-activity-service`` / ``sales-activity`` / ``sales_activity`` → ``sales_activity``."""
    key = name.strip().lower().removesuffix("-service").replace("-", "_")
    if key not in SERVICES and key != "gateway":
        raise KeyError(
            f"unknown service {name!r}; one of: {', '.join(n.replace('_', '-') for n in ALL_NAMES)}"
        )
    return key
