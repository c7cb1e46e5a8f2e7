"""Options shared by every command."""

from __future__ import annotations

from typing import Annotated

import typer

Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="A SQLite path or postgresql://... (else $KARMABANK_DB, else ./karmabank.db).",
        show_default=False,
    ),
]
Now = Annotated[
    str | None,
    typer.Option(
        "--now",
        help="Compute as of this ISO-8601 time (else $KARMABANK_NOW, else the clock).",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
