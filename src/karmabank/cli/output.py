"""What commands write besides their tables: JSON on stdout, the stale-data note on stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from karmabank.cli import render

if TYPE_CHECKING:
    from karmabank.store.open import Store


def print_json(value: Any) -> None:
    sys.stdout.write(render.json_text(value) + "\n")


def write_csv(lines: Iterable[str]) -> None:
    """CSV lines (`actions.table_csv`) on stdout as they come."""
    for line in lines:
        sys.stdout.write(line)
    sys.stdout.flush()


def stale_note(store: Store, now: datetime) -> None:
    """On stderr, when the newest activity is far older than `now`: everyone looks dormant."""
    from karmabank.actions.clock import stale_hint

    hint = stale_hint(store, now)
    if hint is not None:  # one line, never wrapped
        sys.stderr.write(f"note: {hint}\n")
