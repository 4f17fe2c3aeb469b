"""``crm serve NAME``: one service (or the gateway) in this process, configured by the environment only."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp

from crm.modes.build import build_service, kafka_bus
from crm.modes.services import SERVICES
from crm.modes.tokens import token_issuer, token_security
from crm.platform.bus import Tailing
from crm.platform.logs import register_secrets
from crm.platform.metrics_access import MetricsAccess
from crm.platform.settings import SERVICE_URL_VARIABLES, ConfigError, Settings
from crm.services.gateway.app import Gateway
from crm.services.gateway.config import GatewayConfig
from crm.services.gateway.stream import EventStream
from crm.services.gateway.upstreams import HttpUpstream
from crm.services.gateway.webapp import WebApp, dist_dir_setting


def build_distributed(name: str, environ: Mapping[str, str] | None = None) -> ASGIApp:
    """The ASGI app of service ``name``; raises ConfigError naming a missing or invalid variable."""
    settings = Settings.from_env(name, environ)
    register_secrets(settings.secrets())
    if name == "gateway":
        missing = [SERVICE_URL_VARIABLES[s] for s in SERVICES if s not in settings.service_urls]
        if missing:
            raise ConfigError(f"{', '.join(missing)} must be set for the gateway (the services' base URLs)")
        # The edge checks tokens as every service does: JWT_SECRET, else auth's public keys; revocations from
        # user.events when the gateway has Kafka settings.
        bus = kafka_bus(settings)  # tailed for revocations and the live stream
        security = token_security(settings, bus)
        config = settings.service_config(GatewayConfig.from_env)
        return Gateway(
            {s: HttpUpstream(s, settings.service_urls[s], timeout=config.upstream_timeout) for s in SERVICES},
            verifier=security.verifier,
            config=config,
            on_startup=[security.start],
            on_shutdown=[security.stop],
            webapp=WebApp.from_setting(settings.service_config(dist_dir_setting)),
            stream=EventStream(bus if isinstance(bus, Tailing) else None, security.verifier),
            metrics_access=MetricsAccess(settings.metrics_token.value, security.verifier),
        )
    bus = kafka_bus(settings)
    # auth signs (JWT_SECRET: HS256; else EdDSA with its own keys) and verifies with its own keys; the others
    # verify with JWT_SECRET, else with auth's public keys from AUTH_SERVICE_URL.
    tokens = token_issuer(settings)
    own_keys = tokens.verification_keys() if name == "auth" else None
    security = token_security(settings, bus, keys=own_keys)
    _runtime, app = build_service(SERVICES[name], settings, bus, tokens, security=security)
    return app
