"""Environment → typed settings, read once at start (12-factor). Nothing else reads ``os.environ``.

The Kafka variables are the guide's, spelled exactly as it spells them. An invalid value raises
:class:`ConfigError` naming the variable, so a service refuses to start with a message a human can act on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

KAFKA_MECHANISMS = ("plain", "scram-sha-256", "scram-sha-512")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(ValueError):
    """A configuration variable is missing or invalid; the message names the variable."""


@dataclass(frozen=True, repr=False)
class Secret:
    """A string that never shows itself in ``repr``/``str`` (and so never in a log line)."""

    value: str

    def __repr__(self) -> str:
        return "Secret('***')" if self.value else "Secret('')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self.value)


@dataclass(frozen=True)
class KafkaSettings:
    enabled: bool = False
    brokers: tuple[str, ...] = ("localhost:9092",)
    username: str = ""
    password: Secret = field(default_factory=lambda: Secret(""))
    mechanism: str = "plain"
    client_id: str = "crm"
    ssl: bool = False
    ssl_ca_file: Path | None = None
    topic_partitions: int = 1
    request_timeout_ms: int = 10_000

    @property
    def sasl(self) -> bool:
        return bool(self.username)


@dataclass(frozen=True)
class Settings:
    service: str
    kafka: KafkaSettings
    database_url: str
    data_dir: Path
    jwt_secret: Secret
    jwt_ttl_minutes: int = 15
    log_level: str = "INFO"
    log_format: str = "text"
    outbox_poll_interval_ms: int = 1000
    service_urls: Mapping[str, str] = field(default_factory=dict)
    metrics_token: Secret = field(default_factory=lambda: Secret(""))  # see crm.platform.metrics_access
    env: EnvReader = field(default_factory=lambda: EnvReader({}), repr=False, compare=False)

    @classmethod
    def from_env(
        cls,
        service: str,
        environ: Mapping[str, str] | None = None,
        *,
        defaults: Mapping[str, str] | None = None,
    ) -> Settings:
        """Build settings for ``service`` from ``environ`` (default ``os.environ``) over ``defaults``."""
        env = EnvReader({**(defaults or {}), **(os.environ if environ is None else environ)})
        data_dir = Path(env.text("CRM_DATA_DIR", ".crm-data")).expanduser()
        default_db = f"sqlite+aiosqlite:///{data_dir / (service + '.sqlite3')}"
        return cls(
            service=service,
            kafka=_kafka_settings(env, service),
            database_url=_database_url(env, default_db),
            data_dir=data_dir,
            jwt_secret=_jwt_secret(env),
            jwt_ttl_minutes=env.number("JWT_TTL_MINUTES", 15, minimum=1),
            log_level=env.choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"), upper=True),
            log_format=env.choice("LOG_FORMAT", "text", ("text", "json")),
            outbox_poll_interval_ms=env.number("OUTBOX_POLL_INTERVAL_MS", 1000, minimum=10),
            service_urls=_service_urls(env),
            metrics_token=Secret(env.text("METRICS_TOKEN")),
            env=env,
        )

    def secrets(self) -> list[str]:
        """Every secret value, for the log redaction filter."""
        return [s for s in (self.kafka.password.value, self.jwt_secret.value, self.metrics_token.value) if s]

    def service_config(self, parse: Callable[[EnvReader], T]) -> T:
        """A service's own typed settings, parsed from the same environment."""
        return parse(self.env)


SERVICE_URL_VARIABLES = {
    "auth": "AUTH_SERVICE_URL",
    "customer": "CUSTOMER_SERVICE_URL",
    "sales_activity": "SALES_ACTIVITY_SERVICE_URL",
    "opportunity": "OPPORTUNITY_SERVICE_URL",
    "analytics": "ANALYTICS_SERVICE_URL",
}


class EnvReader:
    """Typed reads of environment variables; each invalid value raises ConfigError naming the variable.
    Services parse their own variables with it (a ``ServiceSpec.config`` factory), at start."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values

    def raw(self, name: str) -> str | None:
        value = self.values.get(name)
        return None if value is None else value.strip()

    def text(self, name: str, default: str = "") -> str:
        value = self.raw(name)
        return default if value is None or value == "" else value

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if not value:  # unset or empty: the default
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ConfigError(f"{name} must be true or false, got {value!r}")

    def number(self, name: str, default: int, *, minimum: int = 0) -> int:
        value = self.raw(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {value!r}") from None
        if number < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, got {number}")
        return number

    def choice(self, name: str, default: str, allowed: tuple[str, ...], *, upper: bool = False) -> str:
        value = self.text(name, default)
        value = value.upper() if upper else value.lower()
        if value not in allowed:
            raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        return value


def _kafka_settings(env: EnvReader, service: str) -> KafkaSettings:
    brokers_text = env.text("KAFKA_BROKERS") or env.text("UPSTASH_KAFKA_BROKER_URL")
    brokers = tuple(b.strip() for b in brokers_text.split(",") if b.strip()) or ("localhost:9092",)
    for broker in brokers:
        host, sep, port = broker.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"KAFKA_BROKERS must be host:port[,host:port], got {broker!r}")
    username = env.text("KAFKA_USERNAME") or env.text("UPSTASH_KAFKA_SASL_USERNAME")
    password = env.text("KAFKA_PASSWORD") or env.text("UPSTASH_KAFKA_SASL_PASSWORD")
    if username and not password:
        raise ConfigError("KAFKA_PASSWORD must be set when KAFKA_USERNAME is set")
    ca_text = env.text("KAFKA_SSL_CA_FILE")
    ca_file = Path(ca_text).expanduser() if ca_text else None
    if ca_file is not None and not ca_file.is_file():
        raise ConfigError(f"KAFKA_SSL_CA_FILE names a file that does not exist: {ca_file}")
    return KafkaSettings(
        enabled=env.flag("KAFKA_ENABLED", False),
        brokers=brokers,
        username=username,
        password=Secret(password),
        mechanism=env.choice("KAFKA_MECHANISM", "plain", KAFKA_MECHANISMS),
        client_id=env.text("KAFKA_CLIENT_ID", f"{service.replace('_', '-')}-service"),
        ssl=env.flag("KAFKA_SSL", bool(username)),  # the guide's `ssl: true` goes with SASL
        ssl_ca_file=ca_file,
        topic_partitions=env.number("KAFKA_TOPIC_PARTITIONS", 1, minimum=1),
        request_timeout_ms=env.number("KAFKA_REQUEST_TIMEOUT_MS", 10_000, minimum=100),
    )


def _database_url(env: EnvReader, default: str) -> str:
    url = env.text("DATABASE_URL", default)
    scheme = url.split("://", 1)[0] if "://" in url else ""
    # Render and Heroku hand out postgres:// URLs; we speak asyncpg.
    if scheme in ("postgres", "postgresql"):
        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
    elif scheme == "sqlite":
        url = "sqlite+aiosqlite://" + url.split("://", 1)[1]
    elif scheme not in ("postgresql+asyncpg", "sqlite+aiosqlite"):
        raise ConfigError(f"DATABASE_URL must be a postgresql:// or sqlite:// URL, got scheme {scheme!r}")
    return url


def _jwt_secret(env: EnvReader) -> Secret:
    secret = env.text("JWT_SECRET")
    if secret and len(secret) < 32:
        raise ConfigError("JWT_SECRET must be at least 32 characters long")
    return Secret(secret)


def _service_urls(env: EnvReader) -> dict[str, str]:
    urls: dict[str, str] = {}
    for service, name in SERVICE_URL_VARIABLES.items():
        url = env.text(name)
        if not url:
            continue
        if "://" not in url:  # Render's `fromService ... hostport` gives bare host:port
            url = f"http://{url}"
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{name} must be an http(s):// URL, got {url!r}")
        urls[service] = url.rstrip("/")
    return urls
