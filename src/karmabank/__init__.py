"""karmabank: build your network before you need it.

The public Python API. Everything else is internal and may change.
"""

from karmabank.actions.importing import ImportReport, import_files
from karmabank.errors import KarmabankError
from karmabank.identities import normalize_identity, parse_identity
from karmabank.model import Direction, Flag, IdentityKey, Platform
from karmabank.store.open import Store, open_store

__version__ = "0.1.0"

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
