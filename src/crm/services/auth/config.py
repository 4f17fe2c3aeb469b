"""auth-service's own settings: the first administrator's account."""

from __future__ import annotations

from dataclasses import dataclass

from crm.platform.settings import ConfigError, EnvReader, Secret


@dataclass(frozen=True)
class AuthConfig:
    admin_email: str
    admin_password: Secret  # empty: a random one is generated and printed once

    @classmethod
    def from_env(cls, env: EnvReader) -> AuthConfig:
        email = env.text("CRM_ADMIN_EMAIL", "admin@crm.local").strip().lower()
        if "@" not in email:
            raise ConfigError(f"CRM_ADMIN_EMAIL must be an email address, got {email!r}")
        password = env.text("CRM_ADMIN_PASSWORD")
        if password and len(password) < 8:
            raise ConfigError("CRM_ADMIN_PASSWORD must be at least 8 characters long")
        return cls(admin_email=email, admin_password=Secret(password))
