"""``crm dev``: all five services and the gateway in one process, one SQLite file per service under the
data directory, and a durable local bus in ``bus.sqlite3`` beside them (or Kafka, when
``KAFKA_ENABLED=true``). Nothing to install; a crash of the process loses no event.

Access tokens are EdDSA with auth's keys (in its SQLite file), verified straight from its key store, unless
``JWT_SECRET`` is set (HS256). One revocation list serves every service of the process."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from crm.modes.build import build_service, kafka_bus
from crm.modes.services import SERVICES
from crm.modes.tokens import token_issuer, token_security
from crm.platform.bus import Tailing
from crm.platform.bus.local_log import LocalLogBus
from crm.platform.logs import register_secrets
from crm.platform.metrics_access import MetricsAccess
from crm.platform.runtime import ServiceRuntime
from crm.platform.security import TokenSecurity
from crm.platform.settings import Settings
from crm.services.gateway.app import Gateway
from crm.services.gateway.config import GatewayConfig
from crm.services.gateway.stream import EventStream
from crm.services.gateway.upstreams import AsgiUpstream
from crm.services.gateway.webapp import WebApp, dist_dir_setting


@dataclass
class Embedded:
    gateway: Gateway
    runtimes: dict[str, ServiceRuntime]
    bus: LocalLogBus
    security: TokenSecurity  # how this process checks tokens: ``security.verifier`` is for the gateway too


def build_embedded(data_dir: Path, environ: Mapping[str, str] | None = None) -> Embedded:
    """Every service in this process; their runtimes start and stop with the gateway's lifespan."""
    import os

    env = dict(os.environ if environ is None else environ)
    # One process hosts five services: per-service values cannot come from the shared variables.
    for name in ("DATABASE_URL", "KAFKA_CLIENT_ID"):
        env.pop(name, None)
    env["CRM_DATA_DIR"] = str(data_dir)
    local_bus = LocalLogBus(data_dir / "bus.sqlite3")
    runtimes: dict[str, ServiceRuntime] = {}
    upstreams: dict[str, AsgiUpstream] = {}
    auth = Settings.from_env("auth", env)
    tokens = token_issuer(auth)
    tailed = kafka_bus(auth) if auth.kafka.enabled else local_bus  # revocations and the live stream
    security = token_security(auth, tailed, keys=tokens.verification_keys())
    for name, spec in SERVICES.items():
        settings = Settings.from_env(name, env)
        register_secrets(settings.secrets())
        bus = kafka_bus(settings) if settings.kafka.enabled else local_bus
        runtime, app = build_service(spec, settings, bus, tokens, manage_lifespan=False, security=security)
        runtimes[name] = runtime
        upstreams[name] = AsgiUpstream(name, app, runtime.readiness)

    async def start() -> None:
        for runtime in runtimes.values():
            await runtime.start()

    async def stop() -> None:
        for runtime in reversed(list(runtimes.values())):
            await runtime.stop()
        await local_bus.dispose()

    # One developer on 127.0.0.1 makes every request: the dev profile's limits, still on so 429s can be tried.
    gateway_settings = Settings.from_env("gateway", env)
    edge = gateway_settings.service_config(GatewayConfig.dev_from_env)
    gateway = Gateway(
        upstreams,
        verifier=security.verifier,
        config=edge,
        on_startup=[start],
        on_shutdown=[stop],
        webapp=WebApp.from_setting(gateway_settings.service_config(dist_dir_setting)),
        stream=EventStream(tailed if isinstance(tailed, Tailing) else None, security.verifier),
        metrics_access=MetricsAccess(gateway_settings.metrics_token.value, security.verifier),
    )
    return Embedded(gateway, runtimes, local_bus, security)
