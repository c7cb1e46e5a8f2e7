"""The import formats installed: what `karmabank formats` lists."""

from __future__ import annotations


def import_formats() -> dict[str, str]:
    """Format name -> 'module:Class' of every registered importer (`sources.registry`)."""
    from karmabank.sources import registry

    return registry.available()
