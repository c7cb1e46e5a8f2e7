"""What the generator returns (`DemoNetwork`) and how it is written (`write_csv`)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

CSV_COLUMNS: tuple[str, ...] = (
    "occurred_at", "person", "name", "verb", "direction", "channel", "object", "text", "target",
    "source_key", "also",
)  # fmt: skip


@dataclass(frozen=True)
class DemoNetwork:
    """The generated network: CSV rows sorted by `occurred_at`, and who to flag."""

    rows: list[dict[str, str]]
    team: list[str]
    bots: list[str]
    do_not_contact: list[str]
    # the truth about identities: (first, second) identity of one human seen on two channels,
    # two strangers' identities with one name, and a family's mailbox signed with two names
    same_person: list[tuple[str, str]] = field(default_factory=list)
    namesakes: list[str] = field(default_factory=list)
    shared_mailbox: str = ""


def write_csv(network: DemoNetwork, path: Path) -> None:
    """Write the rows as a UTF-8 CSV file with a header row (`CSV_COLUMNS`)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(CSV_COLUMNS))
        writer.writeheader()
        for row in network.rows:
            writer.writerow(row)
