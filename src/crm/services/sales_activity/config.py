"""sales-activity-service's own settings."""

from __future__ import annotations

from dataclasses import dataclass

from crm.platform.settings import EnvReader


@dataclass(frozen=True)
class SalesActivityConfig:
    due_soon_check_interval_seconds: int = 60

    @classmethod
    def from_env(cls, env: EnvReader) -> SalesActivityConfig:
        return cls(
            due_soon_check_interval_seconds=env.number("DUE_SOON_CHECK_INTERVAL_SECONDS", 60, minimum=1),
        )
