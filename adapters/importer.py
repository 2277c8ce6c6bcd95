from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from commands.executor import Executor
from commands.models import AnyCommand
from commands.parsing import InvalidCommand, parse_json_line


@dataclass
class ImportReport:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, object]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def as_json(self) -> dict[str, object]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


def import_lines(
    executor: Executor,
    lines: Iterable[str],
    batch_size: int = 500,
    on_line: Callable[[int], None] | None = None,
) -> ImportReport:
    """Applies commands in file order, each on its own; a refused line is reported and the rest go on."""
    numbered: list[int] = []

    def commands() -> Iterator[AnyCommand | InvalidCommand]:
        for number, line in enumerate(lines, start=1):
            if on_line is not None:
                on_line(len(line.encode()) + 1)
            if not line.strip():
                continue
            numbered.append(number)
            try:
                yield parse_json_line(line)
            except InvalidCommand as invalid:
                yield invalid

    report = ImportReport()
    for index, outcome in enumerate(executor.execute_many(commands(), batch_size)):
        if outcome.status == "duplicate":
            report.duplicates += 1
        elif outcome.status == "applied":
            report.accepted += 1
        else:
            report.rejected.append({"line": numbered[index], "error": outcome.error})
    return report
