"""``crm serve NAME``: one service (or the gateway) in this process, configured by the environment only."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp

from crm.modes.build import build_service, kafka_bus
from crm.modes.services import SERVICES
from crm.platform.logs import register_secrets
from crm.platform.security import Tokens
from crm.platform.settings import SERVICE_URL_VARIABLES, ConfigError, Settings
from crm.services.gateway.app import Gateway
from crm.services.gateway.upstreams import HttpUpstream


def build_distributed(name: str, environ: Mapping[str, str] | None = None) -> ASGIApp:
    """The ASGI app of service ``name``; raises ConfigError naming a missing or invalid variable."""
    settings = Settings.from_env(name, environ)
    register_secrets(settings.secrets())
    if name == "gateway":
        missing = [SERVICE_URL_VARIABLES[s] for s in SERVICES if s not in settings.service_urls]
        if missing:
            raise ConfigError(f"{', '.join(missing)} must be set for the gateway (the services' base URLs)")
        return Gateway({s: HttpUpstream(s, settings.service_urls[s]) for s in SERVICES})
    if not settings.jwt_secret:
        raise ConfigError("JWT_SECRET must be set (the same value on every service, at least 32 characters)")
    tokens = Tokens(settings.jwt_secret.value, settings.jwt_ttl_minutes)
    _runtime, app = build_service(SERVICES[name], settings, kafka_bus(settings), tokens)
    return app
