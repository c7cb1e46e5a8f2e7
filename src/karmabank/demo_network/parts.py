"""The generator's internal model: a person, an item (post, thread, issue, event), a campaign."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field


@dataclass
class Person:
    idx: int
    name: str
    first: str
    identity: str
    platform: str
    profile: str  # key of KINDS
    peer_channel: str
    themes: tuple[str, ...]
    n: int
    segments: list[tuple[int, int]]
    rhythm: str
    wday: int
    mday: int
    months: frozenset[int]
    hour: float
    hub: bool = False
    dnc: bool = False
    gives: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Item:
    """A blog post, forum thread, GitHub issue or event: a day, a theme, a URL or title."""

    day: int
    theme: str
    ref: str


@dataclass(frozen=True)
class Catalog:
    """Items sorted by day, with their days for bisection."""

    items: list[Item]
    days: list[int]


@dataclass(frozen=True)
class Campaign:
    name: str
    day: int
    action: str
    theme: str


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    out = []
    for ch in ascii_text.lower():
        if ch.isalnum():
            out.append(ch)
        elif ch in " -_" and out and out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-")


def plain(text: str) -> str:
    return slugify(text).replace("-", "")
