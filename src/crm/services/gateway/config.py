"""The gateway's own settings, parsed once at start; an invalid value raises ConfigError naming the variable.

Two profiles share the variables and differ only in defaults: ``serve`` (``crm serve gateway``, production:
the original system's 100 requests / 15 min per client IP) and ``dev`` (``crm dev``, one person on a laptop:
every request comes from 127.0.0.1 — the browser, curl, scripts, benchmarks — so the production budget would
lock the developer out of their own CRM after a few page loads; the limiter still runs, with generous budgets,
so the RateLimit headers and a 429 can be tried by lowering a variable).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from crm.platform.settings import ConfigError, EnvReader

MAX_BODY_BYTES = 1_048_576  # a request body may be as large as a Kafka message (the topics' limit), no larger

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class Rate:
    """``limit`` requests per ``period`` seconds (a burst of ``limit``, then one every period/limit)."""

    limit: int
    period: float
    limit_header: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "limit_header", b"%d" % self.limit)

    @property
    def policy(self) -> str:
        """The ``RateLimit-Policy`` value: ``100;w=900``."""
        return f"{self.limit};w={round(self.period):d}"

    @classmethod
    def parse(cls, name: str, text: str) -> Rate | None:
        """``100/900`` (seconds), ``100/15m``, ``10/1m``, ``5/1h``; ``off`` → None (no such bucket)."""
        if text.strip().lower() in ("off", "none", "false", "0"):
            return None
        match = _RATE.match(text)
        if not match:
            raise ConfigError(
                f"{name} must be REQUESTS/SECONDS such as 100/900 (or 100/15m, or off), got {text!r}"
            )
        limit, period = int(match.group(1)), float(match.group(2)) * _UNITS[match.group(3)]
        if limit < 1 or period <= 0:
            raise ConfigError(f"{name} needs at least 1 request over a positive period, got {text!r}")
        return cls(limit, period)


PROFILES: dict[str, dict[str, str]] = {
    # The original system: 100 requests / 15 min per IP, a stricter bucket on the account endpoints.
    "serve": {"per_ip": "100/900", "per_user": "1000/900", "auth": "10/60"},
    # crm dev: everything comes from 127.0.0.1 (see the module's docstring).
    "dev": {"per_ip": "10000/60", "per_user": "10000/60", "auth": "1000/60"},
}


@dataclass(frozen=True)
class GatewayConfig:
    """Built by hand (``GatewayConfig()``) it enforces no rate limit; both modes parse the environment."""

    rate_limit_enabled: bool = False
    per_ip: Rate | None = None
    per_user: Rate | None = None
    auth: Rate | None = None
    redis_url: str = ""
    cors_origins: tuple[str, ...] = ()
    upstream_timeout: float = 30.0
    max_body_bytes: int = MAX_BODY_BYTES
    profile: str = field(default="manual", compare=False)

    @property
    def cors_any_origin(self) -> bool:
        return "*" in self.cors_origins

    @property
    def rate_limit_backend(self) -> str:
        if not self.rate_limit_enabled:
            return "off"
        return "redis" if self.redis_url else "memory"

    @classmethod
    def from_env(cls, env: EnvReader, profile: Literal["serve", "dev"] = "serve") -> GatewayConfig:
        defaults = PROFILES[profile]
        redis_url = env.text("REDIS_URL")
        if redis_url and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
            raise ConfigError(
                f"REDIS_URL must be a redis://, rediss:// or unix:// URL, got {redact(redis_url)!r}"
            )
        return cls(
            rate_limit_enabled=env.flag("RATE_LIMIT_ENABLED", True),
            per_ip=Rate.parse("RATE_LIMIT_PER_IP", env.text("RATE_LIMIT_PER_IP", defaults["per_ip"])),
            per_user=Rate.parse("RATE_LIMIT_PER_USER", env.text("RATE_LIMIT_PER_USER", defaults["per_user"])),
            auth=Rate.parse("RATE_LIMIT_AUTH", env.text("RATE_LIMIT_AUTH", defaults["auth"])),
            redis_url=redis_url,
            cors_origins=_origins(env.text("CORS_ORIGINS")),
            upstream_timeout=env.number("GATEWAY_UPSTREAM_TIMEOUT_SECONDS", 30, minimum=1),
            profile=profile,
        )

    @classmethod
    def dev_from_env(cls, env: EnvReader) -> GatewayConfig:
        return cls.from_env(env, "dev")


def dev_rate_limits(environ: Mapping[str, str]) -> dict[str, str]:
    """The ``crm dev`` budgets as ``RATE_LIMIT_*`` variables, for a gateway process run on a laptop
    (``crm up``, the test bed's six processes), except those ``environ`` sets itself."""
    names = {"per_ip": "RATE_LIMIT_PER_IP", "per_user": "RATE_LIMIT_PER_USER", "auth": "RATE_LIMIT_AUTH"}
    return {name: PROFILES["dev"][key] for key, name in names.items() if not environ.get(name)}


def _origins(text: str) -> tuple[str, ...]:
    origins: list[str] = []
    for raw in text.split(","):
        origin = raw.strip().rstrip("/")
        if not origin:
            continue
        if origin != "*":
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
                raise ConfigError(
                    f"CORS_ORIGINS must be a comma list of origins such as https://crm.example.com "
                    f"(scheme://host[:port], no path) or *, got {raw.strip()!r}"
                )
            origin = f"{parts.scheme}://{parts.netloc}".lower()
        origins.append(origin)
    return tuple(origins)


def redact(url: str) -> str:
    """``redis://:secret@host:6379/0`` → ``redis://***@host:6379/0``: a URL fit for a log line."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()
