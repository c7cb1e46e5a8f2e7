"""How names are compared: the key a person's, an issue's or a campaign's name is found by.

Pure functions, no I/O. The key is the name in Unicode's compatibility form (NFKC), case-folded
(so `Émile`, `ÉMILE` and `émile` are one, `Straße` and `STRASSE` too), with its spaces collapsed.
Accents are kept: `Emile` is not `Émile`, since many languages tell words apart by them alone.
The database keeps the key beside each name (`name_key`), so SQLite and PostgreSQL compare names
the same way (SQLite's own `lower()` folds ASCII only).
"""

from __future__ import annotations

import unicodedata


def name_key(name: str | None) -> str | None:
    """The key a name is looked up and kept unique by; None for no name (or only spaces).

    >>> name_key("  Émile   ZOLA ")
    'émile zola'
    >>> name_key("Été propre") == name_key("ÉTÉ PROPRE")
    True
    """
    if name is None:
        return None
    if name.isascii():  # NFKC leaves ASCII alone, and casefold() is lower() there
        key = " ".join(name.lower().split())
    else:
        key = " ".join(unicodedata.normalize("NFKC", name).casefold().split())
    return key or None


def is_text(value: str) -> bool:
    """Whether `value` is text a database can keep: no lone surrogate (what Python makes of
    bytes that were not UTF-8, in a command's arguments for one)."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def like_pattern(text: str) -> str:
    """`%text%` for a LIKE ... ESCAPE '\\' that matches `text` anywhere, `%` and `_` as such."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
