"""The docs are executable: every `$ karmabank ...` line in a ```console block of README.md
and docs/*.md runs, in order, in a fresh folder, and every output line the doc shows must
appear in what it printed, in the same order. Every command has help and is documented."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import run
from tests.conftest import DATA

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```console\n(.*?)```", re.S)
ACTIVATE = "source .venv/bin/activate"  # what the README says puts karmabank on the PATH


def make_recipe(target: str) -> list[str]:
    """The karmabank commands `make TARGET` runs: its recipe's `$(BIN)/karmabank ...` lines."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    commands = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        command = line.strip().lstrip("@")
        if command.startswith("$(BIN)/karmabank "):
            commands.append(command.removeprefix("$(BIN)/"))
    return commands


def test_the_readme_activates_the_venv_make_builds() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^VENV\s*:= \.venv$", makefile, re.M)
    assert ACTIVATE in (ROOT / "README.md").read_text().split("## A session")[0]
    assert make_recipe("demo") == ["karmabank demo --keep"]


def sessions(doc: Path) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for each `$ ` line of the doc's console blocks."""
    steps: list[tuple[str, list[str]]] = []
    for block in BLOCK.findall(doc.read_text()):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps and line.strip():
                steps[-1][1].append(line.rstrip())
    return steps


@pytest.mark.slow
@pytest.mark.parametrize("doc", [d for d in DOCS if sessions(d)], ids=lambda d: d.name)
def test_doc_commands_run_and_print_what_the_doc_shows(doc: Path, tmp_path: Path) -> None:
    if any("../shared/data" in cmd for cmd, _ in sessions(doc)) and not DATA.exists():
        pytest.skip(f"{doc.name} uses ../shared/data, not found at {DATA}")
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "COLUMNS": "80"}
    if doc.name != "README.md":  # the README is followed as typed: the demo keeps its own time
        env["KARMABANK_NOW"] = "2026-11-26T12:00:00Z"
    for command, expected in sessions(doc):
        command = command.replace("../shared/data", str(DATA))
        if command.startswith("export "):
            name, _, value = command[len("export ") :].partition("=")
            env[name] = value
            continue
        if command == ACTIVATE:  # here karmabank runs as `python -m karmabank` of this venv
            continue
        if command.startswith("make "):
            (command,) = make_recipe(command.removeprefix("make "))
        argv = shlex.split(command)
        assert argv[0] == "karmabank", f"{doc.name}: only karmabank commands run here: {command}"
        done = subprocess.run(
            [sys.executable, "-m", "karmabank", *argv[1:]],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        wants_error = bool(expected) and expected[0].startswith("error:")
        assert done.returncode == (1 if wants_error else 0), f"{command}\n{done.stderr}"
        got = [line.rstrip() for line in (done.stdout + done.stderr).splitlines()]
        at = 0
        for want in expected:
            while at < len(got) and got[at] != want:
                at += 1
            assert at < len(got), (
                f"{doc.name}: `{command}` did not print {want!r}; it printed:\n" + "\n".join(got)
            )
            at += 1


def test_every_command_has_help_and_is_documented(capsys: pytest.CaptureFixture[str]) -> None:
    from karmabank.cli.app import app

    readme = (ROOT / "README.md").read_text()
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    assert {"init", "import", "people", "person", "record", "flag", "demo"} <= set(names)
    for name in names:
        r = run(capsys, name, "--help")
        assert r.code == 0 and "Usage: karmabank" in r.out, name
        assert f"karmabank {name}" in readme, f"`karmabank {name}` is not in the README"


def test_public_api_is_declared() -> None:
    """Like httpx's test_exported_members: every public name is in __all__ and exists."""
    import types

    import karmabank

    assert set(karmabank.__all__) == {*karmabank._HOMES, "__version__"}
    for name in karmabank.__all__:  # loaded on first use
        assert getattr(karmabank, name) is not None, name
    public = {
        name
        for name, value in vars(karmabank).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public | {"__version__"} == set(karmabank.__all__)


def test_every_measure_setting_is_documented() -> None:
    from dataclasses import fields

    from karmabank.measures.settings import MeasureSettings

    doc = (ROOT / "docs" / "measures.md").read_text()
    settings = MeasureSettings()
    for section in fields(settings):
        for f in fields(getattr(settings, section.name)):
            assert f"`{section.name}.{f.name}`" in doc, f"{section.name}.{f.name} is not documented"
