"""Every imported row's verb and channel checked against the product's vocabulary.

The rules are `karmabank.model.check_verb` and `check_channel` (docs/importing.md): a known verb
(ActivityStreams names map onto the product's) or a custom `x-...` verb; a platform or a plain
channel name. `karmabank.actions.importing` runs every row of every source through one
`RowVocabulary`, so third-party sources follow the same rules as the built-ins.
"""

from __future__ import annotations

import csv
import io

from karmabank.model import VERBS, Platform, check_channel, check_verb, from_micros
from karmabank.sources.base import BadRow, ParsedRow

REMEMBERED = 10_000  # distinct custom verbs or channels kept as known; others are re-checked


class RowVocabulary:
    """Checks rows, remembering the verbs and channels that passed. `verbs` and `channels`
    are what passed so far: a row whose verb and channel are in them needs no check."""

    def __init__(self) -> None:
        self.verbs: set[str] = set(VERBS)
        self.channels: set[str] = {p.value for p in Platform}

    def check(self, row: ParsedRow) -> ParsedRow | BadRow:
        """The row with its verb and channel normalized, or a quarantined row saying which
        of the two is not in the vocabulary."""
        try:
            verb = check_verb(row.verb)
            channel = check_channel(row.channel)
        except ValueError as e:
            return BadRow(row.line, row_text(row), str(e))
        if len(self.verbs) < len(VERBS) + REMEMBERED:
            self.verbs.add(verb)
        if len(self.channels) < REMEMBERED:
            self.channels.add(channel)
        row.verb, row.channel = verb, channel
        return row


def row_text(row: ParsedRow) -> str:
    """A parsed row as one CSV line (the importer's own text of the row is not kept):
    occurred_at, person, name, verb, direction, channel, object, text, target, weight."""
    try:
        at = from_micros(row.occurred_at).isoformat()
    except (OverflowError, ValueError):
        at = str(row.occurred_at)
    fields = [
        at, str(row.person), row.name or "", row.verb, row.direction, row.channel,
        row.object or "", row.text or "", str(row.target or ""),
        "" if row.weight is None else repr(row.weight),
    ]  # fmt: skip
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()
