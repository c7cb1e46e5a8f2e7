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
    presets: tuple[tuple[str, str], ...] = ()  # (name, description): `import csv --preset NAME`

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "description": self.description, "target": self.target,
        }  # fmt: skip
        if self.presets:
            out["presets"] = [{"name": n, "description": d} for n, d in self.presets]
        return out


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
    if "csv" in found:
        csv = found["csv"]
        found["csv"] = FormatInfo(csv.name, csv.description, csv.target, csv_presets())
    return [found[n] for n in sorted(found)]


def csv_presets() -> tuple[tuple[str, str], ...]:
    """The built-in CSV presets (`import csv FILE --preset NAME`), each with what it reads."""
    from karmabank.sources.presets import Preset, names

    return tuple((n, " ".join(Preset.load(n).description.split())) for n in names())
