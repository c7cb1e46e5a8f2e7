"""Any ActivityStreams 2.0 collection: JSON or (compacted) JSON-LD, paged or not.

- **Where the activities are**: `orderedItems` or `items` of the collection, of its embedded
  `first` page and of every embedded `next` page after it, or a top-level array of activities.
  Pages in other files: give every page's file (`karmabank import activitystreams p1.json
  p2.json`); a page given only by URI is never fetched, and a file whose items are all elsewhere
  is an error saying so. The same activity in two pages (or files) is imported once (its key).
- **Direction** (`karmabank.sources.activitystreams_common`): from the organization's
  identities (`karmabank org identity add`): the organization acting toward someone is a give
  to them, someone acting toward the organization (its account, its status, a mention of it)
  is `in`, anyone else toward anyone else is `peer`. Actors are `@user@host` when their URI
  shows the account, else their URI as a `web` identity; a status's author only when its URI
  shows it (or the object says `attributedTo`).
- **Verbs**: `Create` of a reply is `reply`, of a post that mentions accounts `mention` (the
  organization's own: `feature`); `Like`, `Announce` (`share`), `Follow`, `Join` (`attend`),
  `Invite`, `Offer`, `Accept`, `Add`; other types (`Undo`, `Delete`, `Update`, ...) are
  skipped with the reason. Direct messages are skipped unless `--include-direct`.
- **Times**: an activity's `published` (else its object's); one without is quarantined.
- Malformed JSON is one error naming the file and line, before any row of the file is read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar

from karmabank.errors import InputFileError
from karmabank.model import IdentityKey
from karmabank.sources.activitystreams_common import Interpreter, flag
from karmabank.sources.activitystreams_stream import Collection
from karmabank.sources.base import InputFile, SourceItem, check_options
from karmabank.sources.input_file import open_binary
from karmabank.sources.sniff import wrong_format


class ActivityStreamsSource:
    name: ClassVar[str] = "activitystreams"
    description: ClassVar[str] = (
        "ActivityStreams 2.0 collections (JSON, JSON-LD; paged or not): each activity's "
        "direction from the organization's identities"
    )
    option_names: ClassVar[frozenset[str]] = frozenset({"include_direct"})

    def __init__(self, options: Mapping[str, str]) -> None:
        check_options(self.name, options, self.option_names)
        self.include_direct = flag(options, "include_direct")
        self.org: frozenset[IdentityKey] = frozenset()

    def organization_identities(self) -> list[IdentityKey]:
        return []

    def use_organization(self, identities: frozenset[IdentityKey]) -> None:
        self.org = frozenset(identities)

    def read(self, file: InputFile) -> Iterator[SourceItem]:
        def fail(problem: str) -> InputFileError:
            return wrong_format(file, self.name, problem)

        interpreter = Interpreter(self.org, self.include_direct)
        collection = Collection(lambda: open_binary(file.path), fail)
        for line, item in collection:
            yield from interpreter.activity(line, item)
        if collection.found == 0:
            if collection.elsewhere is not None:
                raise fail(
                    f"its items are in pages elsewhere ({collection.elsewhere[:200]!r}): karmabank "
                    "fetches nothing; save each page and import the pages' files"
                )
            kind = collection.kind
            if kind is None or not kind.endswith(("Collection", "CollectionPage")):
                what = "no type" if kind is None else f"type {kind[:40]!r}"
                raise fail(f"not an ActivityStreams collection ({what}, no orderedItems or items)")
