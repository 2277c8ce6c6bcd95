"""`salesledger relay`, `tail` and `schemas`: publishing the store to Kafka and reading it back."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from kafka.errors import KafkaError

from adapters.cli_options import FORMAT
from adapters.cli_progress import count_bar, stderr, tracker
from adapters.event_schemas import DEFAULT_DIR, stale_files, write_schemas
from adapters.kafka_relay import Relay, RelayConfig, RelayFatalError
from adapters.kafka_tail import tail
from adapters.kafka_topics import TopicConfig
from adapters.logging import configure_logging
from adapters.relay_batches import WorkerBroken, tune_gc_for_throughput
from adapters.settings import Settings

BOOTSTRAP = click.option(
    "--bootstrap", default=None, help="Kafka bootstrap servers [default: SALESLEDGER_KAFKA_BOOTSTRAP]"
)


def topic_config(settings: Settings, prefix: str | None = None) -> TopicConfig:
    return TopicConfig(
        prefix=settings.kafka_topic_prefix if prefix is None else prefix,
        partitions=settings.kafka_partitions,
        replication_factor=settings.kafka_replication_factor,
        retention_ms=settings.kafka_retention_ms,
    )


def relay_config(
    settings: Settings,
    *,
    bootstrap_servers: str | None = None,
    prefix: str | None = None,
    transactional_id: str | None = None,
    batch_size: int | None = None,
) -> RelayConfig:
    return RelayConfig(
        bootstrap=bootstrap_servers or settings.kafka_bootstrap,
        transactional_id=transactional_id or settings.kafka_transactional_id,
        topics=topic_config(settings, prefix),
        batch_size=batch_size or settings.kafka_relay_batch_size,
        linger_ms=settings.kafka_linger_ms,
        batch_bytes=settings.kafka_batch_bytes,
        poll_interval_s=settings.kafka_poll_interval_s,
        create_topics=settings.kafka_create_topics,
        reader=settings.kafka_reader,
    )


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and Ctrl-C finish the work in hand (a relay batch, a poll) and then stop."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    for sig in previous:
        signal.signal(sig, lambda *_: stop.set())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.command("relay")
@click.option(
    "--once", is_flag=True, help="Stop at the store's head as it was at start, instead of following."
)
@click.option(
    "--batch-size", type=click.IntRange(1, 100_000), default=None, help="Events per Kafka transaction."
)
@click.option(
    "--transactional-id", default=None, help="Relay identity; a second relay with it fences the first."
)
@click.option(
    "--topic-prefix", default=None, help="Topic name prefix [default: SALESLEDGER_KAFKA_TOPIC_PREFIX]"
)
@BOOTSTRAP
@FORMAT
@click.pass_context
def relay_command(
    ctx: click.Context,
    once: bool,
    batch_size: int | None,
    transactional_id: str | None,
    topic_prefix: str | None,
    bootstrap: str | None,
    fmt: str,
) -> None:
    """Publish the event store to Kafka, exactly once for read_committed consumers."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    config = relay_config(
        settings,
        bootstrap_servers=bootstrap,
        prefix=topic_prefix,
        transactional_id=transactional_id,
        batch_size=batch_size,
    )
    tune_gc_for_throughput()
    relay = Relay(ctx.obj["db"], config)
    try:
        with count_bar(enabled=once) as progress:
            relay.on_progress = tracker(progress, "relaying", None)
            with stop_on_signals(relay.stop):
                position = relay.run(once=once)
            head = relay.head()
    except (RelayFatalError, WorkerBroken, KafkaError) as error:
        stderr.print(f"relay: {error}", style="red")
        sys.exit(2)
    finally:
        relay.close()
    _emit(
        fmt,
        {
            "transactional_id": config.transactional_id,
            "prefix": config.topics.prefix,
            "position": position,
            "head": head,
        },
        f"relay {config.transactional_id}: committed up to position {position} of {head}",
    )


@click.command("tail")
@click.argument("topics", nargs=-1, required=True, metavar="TOPIC...")
@click.option("--group", default="salesledger-tail", show_default=True, help="Consumer group id.")
@click.option(
    "--from-beginning", is_flag=True, help="A group with no committed offsets starts at the oldest record."
)
@click.option("--max", "max_records", type=click.IntRange(1), default=None, help="Stop after N records.")
@click.option(
    "--idle-timeout", type=click.FloatRange(0), default=None, help="Stop after S seconds with no record."
)
@click.option(
    "--topic-prefix",
    default=None,
    help="Prefix for short topic names [default: SALESLEDGER_KAFKA_TOPIC_PREFIX]",
)
@BOOTSTRAP
@FORMAT
def tail_command(
    topics: tuple[str, ...],
    group: str,
    from_beginning: bool,
    max_records: int | None,
    idle_timeout: float | None,
    topic_prefix: str | None,
    bootstrap: str | None,
    fmt: str,
) -> None:
    """Read topics as a downstream consumer group (read_committed): one line per record.

    TOPIC is a full topic name or a short one under the prefix: deal, order, customer, contact,
    rep, requirement, contract, plans, gates, periods, ledger-lines.
    """
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    config = topic_config(settings, topic_prefix)
    names = [config.resolve(topic) for topic in topics]

    def emit(document: dict[str, Any]) -> None:
        if fmt == "json":
            click.echo(json.dumps(document, ensure_ascii=False, separators=(",", ":")))
        else:
            headers = document["headers"]
            click.echo(
                f"{document['topic']}[{document['partition']}]@{document['offset']} "
                f"{headers.get('event_type', '?')} key={document['key']} "
                f"{json.dumps(document['value'], ensure_ascii=False)}"
            )

    stop = threading.Event()
    try:
        with stop_on_signals(stop):
            count = tail(
                bootstrap or settings.kafka_bootstrap,
                names,
                group,
                emit,
                from_beginning=from_beginning,
                max_records=max_records,
                idle_timeout_s=idle_timeout,
                stop=stop,
            )
    except KafkaError as error:
        stderr.print(f"tail: {error}", style="red")
        sys.exit(2)
    stderr.print(f"{count} record(s) from {', '.join(names)} (group {group})", style="dim")


@click.command("schemas")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DIR,
    show_default=True,
)
@click.option("--check", is_flag=True, help="Only report stale files; exit 1 if there are any.")
def schemas_command(directory: Path, check: bool) -> None:
    """Generate the JSON Schemas of every published event type and of ledger lines."""
    if check:
        stale = stale_files(directory)
        for name in stale:
            click.echo(f"stale: {name}")
        sys.exit(1 if stale else 0)
    changed = write_schemas(directory)
    click.echo(f"{len(changed)} schema file(s) written to {directory}")


def _emit(fmt: str, document: dict[str, Any], text: str) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=1) if fmt == "json" else text)
