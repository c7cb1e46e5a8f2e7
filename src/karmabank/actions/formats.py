"""The import formats installed: what `karmabank formats` lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FormatInfo:
    """One registered importer: its name (`karmabank import NAME`), what it reads (the
    source's `description`) and where it comes from (`module:Class`)."""

    name: str
    description: str
    target: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "target": self.target}


def import_formats() -> list[FormatInfo]:
    """Every registered importer (`sources.registry`), by name. One that cannot be loaded (a
    broken third-party package) is listed with the reason instead of its description."""
    from importlib.metadata import entry_points

    from karmabank.sources.registry import GROUP

    found: dict[str, FormatInfo] = {}
    for ep in entry_points(group=GROUP):
        try:
            description = str(ep.load().description)
        except Exception as e:  # noqa: BLE001 - any failure of someone's package is shown
            description = f"(cannot be loaded: {type(e).__name__}: {e})"
        found.setdefault(ep.name, FormatInfo(ep.name, " ".join(description.split()), ep.value))
    return [found[n] for n in sorted(found)]
