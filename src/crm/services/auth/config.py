"""auth-service's own settings: the first administrator's account, refresh tokens and login throttling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from crm.platform.settings import ConfigError, EnvReader, Secret


@dataclass(frozen=True)
class AuthConfig:
    admin_email: str
    admin_password: Secret  # empty: a random one is generated and printed once
    refresh_ttl: timedelta = timedelta(days=30)
    # Login throttling: this many failures within the window lock an account (the email given) or a client IP.
    max_failures_per_account: int = 5
    max_failures_per_ip: int = 20
    failure_window: timedelta = timedelta(minutes=15)

    @classmethod
    def from_env(cls, env: EnvReader) -> AuthConfig:
        email = env.text("CRM_ADMIN_EMAIL", "admin@crm.local").strip().lower()
        if "@" not in email:
            raise ConfigError(f"CRM_ADMIN_EMAIL must be an email address, got {email!r}")
        password = env.text("CRM_ADMIN_PASSWORD")
        if password and len(password) < 8:
            raise ConfigError("CRM_ADMIN_PASSWORD must be at least 8 characters long")
        return cls(
            admin_email=email,
            admin_password=Secret(password),
            refresh_ttl=timedelta(days=env.number("REFRESH_TTL_DAYS", 30, minimum=1)),
            max_failures_per_account=env.number("LOGIN_MAX_FAILURES", 5, minimum=1),
            max_failures_per_ip=env.number("LOGIN_MAX_FAILURES_PER_IP", 20, minimum=1),
            failure_window=timedelta(minutes=env.number("LOGIN_THROTTLE_MINUTES", 15, minimum=1)),
        )
