"""Every file karmabank needs at run time that is not Python is declared as package data, or a
wheel install (not the editable one the tests run on) would miss it: a page without its
script, a command without its template."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

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


LOCK = ROOT / "requirements" / "lock.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.+!-]*)$")


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        found = PIN.match(line.strip())
        assert found, f"requirements/lock.txt: not an exact pin: {line!r}"
        name = canonicalize_name(found.group(1))
        assert name not in pins, f"requirements/lock.txt pins {name} twice"
        pins[name] = found.group(2)
    return pins


def test_python_3_11_to_3_13_are_supported() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    supported = SpecifierSet(project["requires-python"])
    for version in ("3.11.0", "3.12.0", "3.13.0"):
        assert version in supported, version
        assert f"Programming Language :: Python :: {version[:4]}" in project["classifiers"]
    assert "3.10.0" not in supported


def test_the_lock_pins_every_requirement_within_what_pyproject_allows() -> None:
    """Every dependency, of the package and of every extra, and the build backend, is pinned
    exactly, at a version its requirement accepts; pip itself too."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = _pins()
    project = config["project"]
    wanted = [*project["dependencies"], *config["build-system"]["requires"], "pip"]
    for extra in project["optional-dependencies"].values():
        wanted.extend(extra)
    for text in wanted:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not in requirements/lock.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (text, pins[name])


def test_the_lock_holds_everything_installed_with_every_extra() -> None:
    """What those requirements pull in, transitively (as installed here), is pinned too, at the
    version installed: the lock is what `make test` installs."""
    from importlib.metadata import PackageNotFoundError, distribution

    pins = _pins()
    seen: set[str] = set()
    todo = [Requirement(f"karmabank[{','.join(_extras())}]")]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        key = f"{name}[{','.join(sorted(req.extras))}]"
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = distribution(req.name)
        except PackageNotFoundError:
            continue  # an extra of a dependency that is not installed here
        if name != "karmabank":
            assert pins.get(name) == dist.version, f"{name} {dist.version}: lock has {pins.get(name)}"
        for sub in map(Requirement, dist.requires or []):
            if sub.marker is None or any(
                sub.marker.evaluate({"extra": e}) for e in (req.extras or {""})
            ):
                todo.append(sub)


def _extras() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return sorted(project["optional-dependencies"])


def _make_dry_run(tmp_path: Path, *targets: str) -> list[str]:
    """The commands `make TARGET...` would run on a fresh clone (a venv that does not exist)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(
        ["make", "-n", "-B", "--no-print-directory", "-C", str(ROOT), *targets,
         f"VENV={tmp_path / 'venv'}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.splitlines()


def test_make_installs_only_with_the_lock(tmp_path: Path) -> None:
    lines = _make_dry_run(tmp_path, "demo", "test", "serve", "bench")
    installs = [line for line in lines if " -m pip install " in line]
    assert installs, lines
    for line in installs:
        assert "--constraint requirements/lock.txt" in line, line
        if " -e " in line:  # a build: its backend is pinned as well
            assert "--build-constraint requirements/lock.txt" in line, line


def test_make_demo_installs_the_package_alone_and_keeps_the_database(tmp_path: Path) -> None:
    lines = _make_dry_run(tmp_path, "demo")
    builds = [line for line in lines if " -m pip install " in line and " -e " in line]
    assert len(builds) == 1 and builds[0].endswith(" -e ."), builds
    assert lines[-1].endswith("/karmabank demo --keep")
    tests = [line for line in _make_dry_run(tmp_path, "test") if " -e " in line]
    assert len(tests) == 1 and tests[0].endswith(" -e '.[dev,semantic,spark]'"), tests


def test_ci_runs_make_test() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci[-1] == "make test"


def test_what_karmabank_writes_beside_a_database_is_ignored_by_git() -> None:
    """The columnar copy (its folder named by store/open.py) and the import lock."""
    from karmabank.store.open import columns_dir

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    db = ROOT / "karmabank-demo.db"
    for beside in (columns_dir(f"sqlite:///{db}") / "manifest.json", Path(f"{db}-imports.lock")):
        inside = beside.relative_to(ROOT)
        ignored = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", str(inside)])
        assert ignored.returncode == 0, f"{inside} is not in .gitignore"
