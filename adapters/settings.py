from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.alert_rules import AlertRules, default_rules


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
    # JSON list of threshold rules (domain.alert_rules.ThresholdRule); `alerts check --rules FILE` overrides.
    alert_rules: AlertRules = Field(default_factory=default_rules)
    # Funnel benchmarks per stage (conversion, days_in_stage, stall_days) and follow_up_rate: a JSON
    # object or the path of a YAML/JSON file, over the defaults in projections/funnel_benchmarks.py.
    funnel_benchmarks: str | None = None
    # Diagnosis benchmarks (replay/diagnosis.py: stages.<stage>.days|conversion, first_touch_rate,
    # min_sample, min_gap, top): a JSON object or the path of a YAML/JSON file; `diagnosis --benchmarks`
    # overrides.
    diagnosis_benchmarks: str | None = None
    # HTTP API (adapters/http_app.py): worker threads stay within the store's 15 pooled connections;
    # a query given `min_position` waits this long for the read model to reach it.
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    http_threads: int = Field(default=12, ge=1, le=15)
    http_wait_seconds: float = Field(default=5, gt=0, le=120)
    # Kafka relay (adapters/kafka_relay.py) and topics (adapters/kafka_topics.py).
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_topic_prefix: str = Field(default="salesledger.", pattern=r"^[A-Za-z0-9._-]*$")
    kafka_partitions: int = Field(default=3, ge=1)
    kafka_replication_factor: int = Field(default=1, ge=1)
    kafka_retention_ms: int = Field(default=-1, ge=-1)
    kafka_create_topics: bool = True
    kafka_transactional_id: str = "salesledger-relay"
    kafka_relay_batch_size: int = Field(default=2000, ge=1, le=100_000)
    kafka_linger_ms: int = Field(default=5, ge=0)
    kafka_batch_bytes: int = Field(default=262_144, ge=1024)
    kafka_poll_interval_s: float = Field(default=0.5, gt=0)
    kafka_reader: str = Field(default="process", pattern="^(local|process)$")
    # Customer 360 (projections/customer_360.py) and ERP order import: files; unset = adapters/defaults/.
    action_tag_rules: str | None = None
    tag_keyword_rules: str | None = None
    order_import_mapping: str | None = None

    @property
    def sla_hours(self) -> dict[str, float]:
        return {
            "presales": self.sla_presales_hours,
            "legal": self.sla_legal_hours,
            "delivery": self.sla_delivery_hours,
        }
