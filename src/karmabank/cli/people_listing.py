"""The people listing for the terminal, a pipe or a script: written a chunk at a time, as the
rows are read (no Rich table of every row)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from karmabank.cli.render import console, plain

if TYPE_CHECKING:
    from karmabank.actions.listing import ListedPerson

# The people listing's columns: header, right-justified, minimum width.
_PEOPLE_COLUMNS = (("id", True, 4), ("name", False, 0), ("circle", False, 6),
                   ("status", False, 6), ("warmth", True, 0), ("balance", True, 0),
                   ("stage", False, 0), ("flags", False, 0))  # fmt: skip
NAME_WIDTH_ON_TERMINAL = 26


def _people_cells(r: ListedPerson, tsv: bool) -> list[str]:
    dash = "" if tsv else "—"
    return [
        str(r.id), plain(r.shown), r.circle or dash, r.status or dash,
        dash if r.warmth is None else f"{r.warmth:.1f}",
        dash if r.balance is None else f"{r.balance:g}", r.stage or dash, ", ".join(r.flags),
    ]  # fmt: skip


def people_listing(
    chunks: Iterable[list[ListedPerson]], *, terminal: bool | None = None, tsv: bool = False
) -> int:
    """Write the listing as the chunks come, and return how many people it showed. Columns are
    as wide as the first chunk needs; a longer value later pushes the rest of its line right.
    On a terminal a long name is cut at 26 columns (…); in a pipe or a file nothing is cut.
    `tsv`: tab-separated with a header line, empty for no value."""
    from rich.cells import cell_len

    if terminal is None:
        terminal = sys.stdout.isatty()
    write = sys.stdout.write
    headers = [name for name, _, _ in _PEOPLE_COLUMNS]
    shown = 0
    widths: list[int] | None = None
    for chunk in chunks:
        rows = [_people_cells(r, tsv) for r in chunk]
        if tsv:
            if shown == 0:
                write("\t".join(headers) + "\n")
            write("".join("\t".join(row) + "\n" for row in rows))
        else:
            if terminal:
                for row in rows:
                    if cell_len(row[1]) > NAME_WIDTH_ON_TERMINAL:
                        row[1] = _cut(row[1], NAME_WIDTH_ON_TERMINAL)
            if widths is None:
                widths = [
                    max([len(h), least, *(_width(row[i], cell_len) for row in rows)])
                    for i, (h, _, least) in enumerate(_PEOPLE_COLUMNS)
                ]
                _people_header(headers, widths, terminal)
            write("".join(_aligned(row, widths, cell_len) + "\n" for row in rows))
        shown += len(rows)
    if tsv and shown == 0:
        write("\t".join(headers) + "\n")
    if not tsv and widths is None:
        _people_header(headers, [max(len(h), least) for h, _, least in _PEOPLE_COLUMNS],
                       terminal)  # fmt: skip
        write("no one matches: `karmabank import` some activities, or try `karmabank demo`\n")
    sys.stdout.flush()
    return shown


def _aligned(cells: list[str], widths: list[int], cell_len: Callable[[str], int]) -> str:
    out = []
    for (_, right, _), text, width in zip(_PEOPLE_COLUMNS, cells, widths, strict=True):
        if text.isascii():  # one column per character: str's own padding (fast)
            out.append(text.rjust(width) if right else text.ljust(width))
            continue
        pad = " " * max(width - cell_len(text), 0)
        out.append(pad + text if right else text + pad)
    return "  ".join(out).rstrip()


def _width(text: str, cell_len: Callable[[str], int]) -> int:
    return len(text) if text.isascii() else cell_len(text)


def _people_header(headers: list[str], widths: list[int], terminal: bool) -> None:
    from rich.cells import cell_len

    if not terminal:
        sys.stdout.write(_aligned(headers, widths, cell_len) + "\n")
        return
    from rich.text import Text

    line = Text()
    for i, ((name, right, _), width) in enumerate(zip(_PEOPLE_COLUMNS, widths, strict=True)):
        pad = " " * (width - len(name))
        line.append("  " if i else "")
        line.append(pad if right else "")
        line.append(name, style="bold underline")
        line.append("" if right else pad)
    console().print(line)


def _cut(text: str, width: int) -> str:
    """`text` cut to `width` terminal columns, the last one an ellipsis."""
    from rich.cells import set_cell_size

    return set_cell_size(text, width - 1) + "…"
