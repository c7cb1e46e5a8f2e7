"""Every file karmabank needs at run time that is not Python is declared as package data, or a
wheel install (not the editable one the tests run on) would miss it: a page without its
script, a command without its template."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "karmabank"


def test_every_data_file_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["karmabank"]
    declared = {p for pattern in patterns for p in PACKAGE.glob(pattern)}
    needed = {
        p for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    }  # fmt: skip
    missing = sorted(str(p.relative_to(PACKAGE)) for p in needed - declared)
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"
    assert PACKAGE / "web" / "static" / "karmabank.js" in declared
