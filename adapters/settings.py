from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """All configuration, from SALESLEDGER_* environment variables; defaults run on the embedded store."""

    model_config = SettingsConfigDict(env_prefix="SALESLEDGER_", extra="ignore")

    database_url: str = "sqlite:///./salesledger.db"
    log_level: str = "warning"
    log_format: str = Field(default="console", pattern="^(console|json)$")
    sla_presales_hours: float = Field(default=2, gt=0)
    sla_legal_hours: float = Field(default=4, gt=0)
    sla_delivery_hours: float = Field(default=1, gt=0)
    max_payment_term_days: int = Field(default=90, ge=0)
    max_penalty_ratio: str = "0.2"
    first_touch_hours: float = Field(default=72, gt=0)
    import_batch_size: int = Field(default=500, ge=1, le=10_000)

    @property
    def sla_hours(self) -> dict[str, float]:
        return {
            "presales": self.sla_presales_hours,
            "legal": self.sla_legal_hours,
            "delivery": self.sla_delivery_hours,
        }
