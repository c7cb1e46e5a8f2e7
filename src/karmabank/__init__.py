"""karmabank: build your network before you need it.

The public Python API. Everything else is internal and may change. Names are imported when
first used, so that a command pays only for what it needs (`karmabank nurture` never loads the
importers).
"""

from importlib import import_module as _import_module
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

if _TYPE_CHECKING:
    from karmabank.actions.importing import ImportReport, import_files
    from karmabank.errors import KarmabankError
    from karmabank.identities import normalize_identity, parse_identity
    from karmabank.model import Direction, Flag, IdentityKey, Platform
    from karmabank.store.open import Store, open_store

__version__ = "0.1.0"

_HOMES = {
    "ImportReport": "karmabank.actions.importing",
    "import_files": "karmabank.actions.importing",
    "KarmabankError": "karmabank.errors",
    "normalize_identity": "karmabank.identities",
    "parse_identity": "karmabank.identities",
    "Direction": "karmabank.model",
    "Flag": "karmabank.model",
    "IdentityKey": "karmabank.model",
    "Platform": "karmabank.model",
    "Store": "karmabank.store.open",
    "open_store": "karmabank.store.open",
}

__all__ = [
    "Direction",
    "Flag",
    "IdentityKey",
    "ImportReport",
    "KarmabankError",
    "Platform",
    "Store",
    "__version__",
    "import_files",
    "normalize_identity",
    "open_store",
    "parse_identity",
]


def __getattr__(name: str) -> _Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'karmabank' has no attribute {name!r}")
    value = getattr(_import_module(home), name)
    globals()[name] = value
    return value
