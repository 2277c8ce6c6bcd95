"""Which Kafka topic each event goes to, and creating those topics with their configuration.

One topic per aggregate type, keyed by aggregate id so Kafka keeps each aggregate's events in order;
one for ledger lines, keyed by rep; and a compacted one holding each relay's committed position.
`CommandReceipt` events are not published: they are the store's own idempotency records, not facts
any downstream system acts on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from eventsourcing.domain import Aggregate
from kafka.admin import KafkaAdminClient

from domain.contract import Contract
from domain.customer import Contact, Customer
from domain.deal import Deal
from domain.gate_book import GateBook
from domain.ledger_periods import LedgerPeriods
from domain.order import Order
from domain.plan_book import PlanBook
from domain.rep import Rep
from domain.requirement import RequirementRequest

# Short names under the configured prefix; singletons are named after what they hold.
AGGREGATE_TOPICS: dict[type[Aggregate], str] = {
    Deal: "deal",
    Order: "order",
    Customer: "customer",
    Contact: "contact",
    Rep: "rep",
    RequirementRequest: "requirement",
    Contract: "contract",
    PlanBook: "plans",
    GateBook: "gates",
    LedgerPeriods: "periods",
}
LEDGER_LINES = "ledger-lines"
RELAY_POSITIONS = "relay-positions"
# Kafka's error code for "topic already exists": another relay may create it between list and create.
TOPIC_ALREADY_EXISTS = 36

log = structlog.get_logger("salesledger.kafka_topics")


@dataclass(frozen=True)
class TopicConfig:
    prefix: str = "salesledger."
    partitions: int = 3
    replication_factor: int = 1
    # -1 keeps records forever: the event topics are a log downstream systems may rebuild from.
    retention_ms: int = -1

    def name(self, short: str) -> str:
        return f"{self.prefix}{short}"

    @property
    def ledger_lines(self) -> str:
        return self.name(LEDGER_LINES)

    @property
    def positions(self) -> str:
        return self.name(RELAY_POSITIONS)

    def data_topics(self) -> list[str]:
        """Every topic consumers read: the aggregate topics and the ledger lines."""
        return [self.name(short) for short in (*AGGREGATE_TOPICS.values(), LEDGER_LINES)]

    def resolve(self, topic: str) -> str:
        """A short name (`deal`, `ledger-lines`) under the prefix; anything else is taken as given."""
        if topic in AGGREGATE_TOPICS.values() or topic in (LEDGER_LINES, RELAY_POSITIONS):
            return self.name(topic)
        return topic

    def specs(self) -> dict[str, dict[str, Any]]:
        """Creation settings per topic, in the admin client's dict form."""
        data = {
            "num_partitions": self.partitions,
            "replication_factor": self.replication_factor,
            "configs": {"cleanup.policy": "delete", "retention.ms": str(self.retention_ms)},
        }
        specs = {topic: data for topic in self.data_topics()}
        # One partition, compacted: only the latest position per relay matters, and a relay reads
        # the whole partition when it starts.
        specs[self.positions] = {
            "num_partitions": 1,
            "replication_factor": self.replication_factor,
            "configs": {"cleanup.policy": "compact", "segment.ms": str(3_600_000)},
        }
        return specs


def ensure_topics(bootstrap: str, config: TopicConfig, bootstrap_timeout_ms: int = 30_000) -> list[str]:
    """Creates the topics that do not exist yet; existing ones are left as they are (changing the
    partition count of a live topic moves keys between partitions, an operator's decision)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, bootstrap_timeout_ms=bootstrap_timeout_ms)
    try:
        existing = set(admin.list_topics())
        missing = {name: spec for name, spec in config.specs().items() if name not in existing}
        if not missing:
            return []
        result = admin.create_topics(missing, raise_errors=False, wait_for_metadata=True)
        _raise_errors(result["topics"])
        log.info("kafka.topics_created", topics=sorted(missing))
        return sorted(missing)
    finally:
        admin.close()


def delete_topics(bootstrap: str, topics: Iterable[str]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        existing = set(admin.list_topics())
        doomed = [topic for topic in topics if topic in existing]
        if doomed:
            admin.delete_topics(doomed)
    finally:
        admin.close()


def _raise_errors(results: list[dict[str, Any]]) -> None:
    failed = [r for r in results if r["error_code"] not in (0, TOPIC_ALREADY_EXISTS)]
    if failed:
        details = ", ".join(f"{r['name']}: {r.get('error_message') or r['error_code']}" for r in failed)
        raise RuntimeError(f"kafka: could not create topics ({details})")
