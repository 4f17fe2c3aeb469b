"""analytics-service HTTP routes: ``reports`` (MANAGER, ADMIN, COMPLIANCE; a customer's ``timeline`` also its
owner), ``notifications`` (the caller's own), ``metrics`` (ADMIN). Each mounts its full ``/api/...`` path; the
gateway routes those areas here."""

from __future__ import annotations

from crm.services.analytics.api.metrics import router as metrics_router
from crm.services.analytics.api.notifications import router as notifications_router
from crm.services.analytics.api.reports import router as reports_router
from crm.services.analytics.api.timeline import router as timeline_router

ROUTERS = [reports_router, timeline_router, notifications_router, metrics_router]
