"""The registry of importers: the entry-point group `karmabank.sources`.

Built-in formats register in karmabank's own `pyproject.toml` exactly as a third-party
package registers its own. The registry is read on demand, never at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points

from karmabank.errors import NotFoundError
from karmabank.sources.base import Source

GROUP = "karmabank.sources"


def available() -> dict[str, str]:
    """Format name -> 'module:Class' of every registered importer."""
    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


def load(name: str, options: Mapping[str, str]) -> Source:
    """Construct the importer registered as `name` with the user's options."""
    for ep in entry_points(group=GROUP):
        if ep.name == name:
            cls = ep.load()
            source: Source = cls(options)
            return source
    known = ", ".join(sorted(available())) or "none installed"
    raise NotFoundError(f"unknown import format {name!r} (known: {known})")
