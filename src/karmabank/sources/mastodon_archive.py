"""The organization's Mastodon archive ("Request your archive"): the `.zip`, its folder, or
its `outbox.json` (plain or .gz).

- **Whose archive**: `actor.json` (next to the outbox, or in the zip) names the owner; without
  it, the outbox's first activity's actor does. The owner is yielded first as the
  organization's identity (`@user@host`); every activity of the outbox is the owner's.
- **Rows** (`karmabank.sources.activitystreams_common`): a reply to someone else's status is
  a `reply` give to its author, a boost of someone else's status a `share` give, each account a
  public or unlisted post mentions a `feature` give, each own public or unlisted status the
  organization's content. Authors are taken from status URIs whose path shows them; a URI that
  does not is skipped with the reason, never guessed. Direct messages are skipped unless
  `--include-direct`. A reply in its own thread or a boost of its own status is no give.
- **Likes** (`likes.json`) list only the liked statuses' URIs, with no time: each is skipped
  with that reason (an activity needs when it happened). Bookmarks are private: not read.
- **Quirks**: `orderedItems` may appear twice, the first empty: both are read, so the full
  one is taken in either order; `totalItems` is not trusted (it can disagree with the list).
- **Malformed JSON**: the outbox is read in one pass that checks it as it goes, and the import
  stores the file in one transaction (`stored_whole`), so a broken file is one error naming
  the file and line, with nothing imported.
- A folder given on the command line reads its `outbox.json` (`input_path`); lines in row
  reports are the line of each activity's `"id"` in `outbox.json`.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import IO, Any, ClassVar
from urllib.parse import urlsplit

import ijson  # type: ignore[import-untyped]

from karmabank.errors import InputFileError
from karmabank.model import IdentityKey
from karmabank.sources.activitystreams_common import (
    Interpreter,
    actor_identity,
    flag,
    ref,
    uri_account,
)
from karmabank.sources.activitystreams_stream import (
    Fail,
    LineReader,
    has_ordered_items,
    ordered_items,
)
from karmabank.sources.base import InputFile, OrgIdentityRow, SkippedRow, SourceItem, check_options
from karmabank.sources.input_file import open_binary
from karmabank.sources.sniff import wrong_format

OUTBOX = "outbox.json"
NO_TIME = "a like without a time (likes.json lists only the liked statuses' URIs)"
_ZIP_MAGIC = b"PK\x03\x04"
MAX_ACTOR = 16 * 1024 * 1024  # bytes of actor.json read (an account is a few KiB)
Stream = IO[bytes]
Opener = Callable[[str], Stream | None]


class MastodonArchiveSource:
    name: ClassVar[str] = "mastodon-archive"
    description: ClassVar[str] = (
        "the organization's Mastodon archive (.zip, its folder or outbox.json): its replies, "
        "boosts and mentions as gives, its public posts as its content"
    )
    option_names: ClassVar[frozenset[str]] = frozenset({"include_direct"})
    stored_whole: ClassVar[bool] = True  # outbox.json is well-formed JSON only at its end

    def __init__(self, options: Mapping[str, str]) -> None:
        check_options(self.name, options, self.option_names)
        self.include_direct = flag(options, "include_direct")

    def organization_identities(self) -> list[IdentityKey]:
        return []  # the archive says who it is: yielded as an OrgIdentityRow

    @staticmethod
    def input_path(path: Path) -> Path:
        """The file to open for a path given on the command line: a folder's outbox.json."""
        return path / OUTBOX if path.is_dir() else path

    def read(self, file: InputFile) -> Iterator[SourceItem]:
        if _is_zip(file.path):
            try:
                archive = zipfile.ZipFile(file.path)
            except (zipfile.BadZipFile, OSError) as e:
                raise InputFileError(f"{file.display}: not a readable zip archive ({e})") from None
            with archive:
                yield from self._archive(file, _zip_opener(file.display, archive))
            return
        folder = file.path.parent

        def beside(name: str) -> Stream | None:
            if name == OUTBOX:
                return open_binary(file.path)
            path = folder / name
            return open(path, "rb") if path.is_file() else None  # noqa: SIM115

        yield from self._archive(file, beside, lambda why: wrong_format(file, self.name, why))

    def _archive(
        self, file: InputFile, open_: Opener, broken: Fail | None = None
    ) -> Iterator[SourceItem]:
        """The archive's rows; `broken` is the error for an outbox.json that is not JSON (by
        default: `FILE: outbox.json: PROBLEM`)."""
        display = file.display

        def wrong(why: str) -> InputFileError:
            return wrong_format(file, self.name, why)

        if broken is None:
            broken = lambda why: InputFileError(f"{display}: {OUTBOX}: {why}")  # noqa: E731
        _required(open_, OUTBOX, display).close()  # no outbox: said before anything else
        owner = _owner(open_, display)
        interpreter = Interpreter(frozenset(), self.include_direct)
        if owner is not None:
            yield OrgIdentityRow(1, owner)
            interpreter.org = frozenset({owner})
        found_any = False
        for line, item in ordered_items(lambda: _required(open_, OUTBOX, display), broken):
            found_any = True
            if not interpreter.org and isinstance(item, dict):
                found = actor_identity(item.get("actor"))
                if found is not None:
                    yield OrgIdentityRow(line, found)
                    interpreter.org = frozenset({found})
            yield from interpreter.activity(line, item)
        if not found_any:
            with _required(open_, OUTBOX, display) as outbox:
                if not has_ordered_items(outbox):
                    raise wrong("no orderedItems list: not a Mastodon outbox")
        likes = open_("likes.json")
        if likes is not None:
            with likes as stream:
                yield from _likes(stream)


def _is_zip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == _ZIP_MAGIC


def _zip_opener(display: str, archive: zipfile.ZipFile) -> Opener:
    """Opens a member by its name, at the top or in one folder (the shallowest wins)."""
    names = sorted(
        (n for n in archive.namelist() if len(PurePosixPath(n).parts) <= 2),
        key=lambda n: len(PurePosixPath(n).parts),
    )

    def open_(name: str) -> Stream | None:
        member = next((n for n in names if PurePosixPath(n).name == name), None)
        if member is None:
            return None
        try:
            return archive.open(member)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as e:
            raise InputFileError(f"{display}: cannot read {member} in the zip: {e}") from None

    return open_


def _required(open_: Opener, name: str, display: str) -> Stream:
    stream = open_(name)
    if stream is None:
        raise InputFileError(
            f"{display}: no {name} in it: give the archive's .zip, its folder or its {name}"
        )
    return stream


def _owner(open_: Opener, display: str) -> IdentityKey | None:
    """The owner `actor.json` names: `@user@host` from its id, else its preferredUsername at
    the id's host, else the id as a web identity; None without actor.json."""
    stream = open_("actor.json")
    if stream is None:
        return None
    with stream as f:
        try:
            actor: Any = json.loads(f.read(MAX_ACTOR).decode("utf-8-sig"))
        except (ValueError, UnicodeError) as e:
            raise InputFileError(f"{display}: actor.json is not valid JSON ({e})") from None
    if not isinstance(actor, dict):
        raise InputFileError(f"{display}: actor.json does not describe an account")
    uri, username = ref(actor.get("id")), actor.get("preferredUsername")
    found = actor_identity(uri)
    if found is not None and found.platform == "web" and isinstance(username, str) and uri:
        host = urlsplit(uri).hostname or ""
        found = uri_account(f"https://{host}/@{username}") or found
    if found is None:
        raise InputFileError(f"{display}: actor.json has no account id")
    return found


def _likes(stream: IO[bytes]) -> Iterator[SourceItem]:
    reader = LineReader(stream)
    try:
        for _ in ijson.items(reader, "orderedItems.item"):
            yield SkippedRow(reader.line, NO_TIME)
    except (ijson.JSONError, UnicodeError, ValueError):
        yield SkippedRow(reader.line, "likes.json is not valid JSON: its likes are not read")
