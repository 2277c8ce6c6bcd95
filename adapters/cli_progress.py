"""Progress bars for long CLI work: on stderr, only on a terminal, gone when the work is done."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

stderr = Console(stderr=True)
Advance = Callable[[int, int], None]


def count_bar(*, enabled: bool = True, transient: bool = True) -> Progress:
    """Counts things (events, positions, requests) against a total."""
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=transient,
        disable=not (enabled and stderr.is_terminal),
    )


def bytes_bar() -> Progress:
    """Reads through a file."""
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,
    )


def tracker(progress: Progress, description: str, total: int | None) -> Advance:
    """A task on the bar, moved by the (done, total) callbacks that catch-ups and folds report with."""
    task = progress.add_task(description, total=total)

    def advance(done: int, head: int) -> None:
        progress.update(task, completed=done, total=head)

    return advance


@contextmanager
def position_bar(description: str, total: int | None = None) -> Iterator[Advance]:
    with count_bar() as progress:
        yield tracker(progress, description, total)
