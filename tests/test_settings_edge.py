"""Settings are read once, at the edge, and passed in (issue 14, point 2).

`karmabank.settings` is the one module that reads `karmabank.toml` and `KARMABANK_*`; the edges
(`cli/`, `web/`) call it. Any other module that touches the process environment or parses TOML
fails here, naming the file and line. And the settings it reads fail loudly, naming the key and
the file (or the variable); the web app reads them once, in `create_app`, never per request.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from karmabank.actions.accounts import Role, add_user, new_token
from karmabank.errors import ConfigError
from karmabank.settings import load_measure_settings, load_settings, settings_path
from karmabank.store.open import open_store
from karmabank.web import WebSettings, create_app
from tests.conftest import NOW

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "karmabank"
READER = PACKAGE / "settings.py"
EDGES = (PACKAGE / "cli", PACKAGE / "web")
ENVIRONMENT = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
TOML = {"tomllib", "tomli"}


def environment_reads(source: str, name: str) -> list[str]:
    """`name:line what` for each read of the process environment or TOML parser in `source`."""
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Attribute) and node.attr in ENVIRONMENT:
            if isinstance(node.value, ast.Name) and node.value.id == "os":
                found.append(f"{name}:{node.lineno} os.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [f"{name}:{node.lineno} from os import {a.name}"
                      for a in node.names if a.name in ENVIRONMENT]  # fmt: skip
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in TOML:
            found.append(f"{name}:{node.lineno} from {node.module} import ...")
        elif isinstance(node, ast.Import):
            found += [f"{name}:{node.lineno} import {a.name}"
                      for a in node.names if a.name.split(".")[0] in TOML]  # fmt: skip
    return sorted(found, key=lambda f: int(f.split(":")[1].split()[0]))


def test_only_the_edges_and_the_settings_reader_read_the_environment() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == READER or any(path.is_relative_to(edge) for edge in EDGES):
            continue
        offenders += environment_reads(
            path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE))
        )
    assert offenders == []


def test_the_check_finds_each_kind_of_read() -> None:
    source = (
        "import os\nimport tomllib\nfrom os import getenv\nfrom tomllib import loads\n"
        "a = os.environ.get('X')\nb = os.getenv('Y')\nos.environ.setdefault('Z', '1')\n"
        "def f(environ): return environ['K']\n"  # a parameter named environ is not a read
    )
    assert environment_reads(source, "m.py") == [
        "m.py:2 import tomllib", "m.py:3 from os import getenv", "m.py:4 from tomllib import ...",
        "m.py:5 os.environ", "m.py:6 os.getenv", "m.py:7 os.environ",
    ]  # fmt: skip


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "karmabank.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[warmth]\ndecay_rate = 0.5\n", ["[warmth]", "'decay_rate'"]),  # an unknown key
        ("[warmth]\ndecay = 'fast'\n", ["[warmth] decay", "'fast'", "float"]),  # a bad type
        ("[warmth]\ndecay = 1.5\n", ["warmth.decay", "[warmth] decay", "(0, 1]"]),  # out of range
        ("[rhythm]\ndormant_days = 99999999\n", ["rhythm.dormant_days", "[rhythm] dormant_days"]),
        ("[warmth\ndecay = 0.8\n", ["line 1"]),  # not TOML
    ],
)
def test_bad_settings_name_the_key_and_the_file(
    tmp_path: Path, text: str, names: list[str]
) -> None:
    path = _toml(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_settings(db=str(tmp_path / "karmabank.db"), environ={})
    assert str(path) in str(e.value)
    for name in names:
        assert name in str(e.value)
    assert len(str(e.value).splitlines()) == 1


def test_a_variable_out_of_range_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_settings(db=str(tmp_path / "k.db"), environ={"KARMABANK_WARMTH_DECAY": "2"})
    assert "warmth.decay must be in (0, 1] (set in KARMABANK_WARMTH_DECAY)" in str(e.value)


def test_the_reader_hands_down_every_setting(tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    _toml(tmp_path, "[warmth]\ndecay = 0.8\n")
    env = {"KARMABANK_NOW": "2026-05-01T12:00", "KARMABANK_COLUMNS_DIR": str(tmp_path / "c"),
           "KARMABANK_TEMPLATES": str(tmp_path / "t"), "KARMABANK_LEDGER_MAX_ASKS": "4"}  # fmt: skip
    s = load_settings(db=db, environ=env)
    assert (s.db, s.now and s.now.isoformat()) == (db, "2026-05-01T12:00:00+00:00")
    assert (s.measures.warmth.decay, s.measures.ledger.max_asks) == (0.8, 4)
    assert (s.columns_base, s.templates_dir) == (tmp_path / "c", tmp_path / "t")
    assert settings_path(db) == settings_path(f"sqlite:///{db}") == tmp_path / "karmabank.toml"
    assert settings_path("postgresql://u@h/db") == Path("karmabank.toml")


def test_the_web_app_reads_the_settings_once(tmp_path: Path) -> None:
    """The toml changes after create_app: the app keeps what it read. Read per request, the
    broken file would make every scored answer a 400."""
    db = str(tmp_path / "karmabank.db")
    with open_store(db, create=True) as store:
        add_user(store=store, email="org@example.org", role=Role.ORGANIZER.value, now=NOW,
                 password="correct horse battery staple", actor="test")  # fmt: skip
        token = new_token(store=store, email="org@example.org", now=NOW)[1]
    path = _toml(tmp_path, "[warmth]\ndecay = 0.8\n")
    app = create_app(WebSettings(db=db, now=NOW))
    path.write_text("[warmth\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_measure_settings(path, environ={})
    with TestClient(app) as client:
        r = client.get("/api/status", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        assert client.app.state.karmabank.measures.warmth.decay == 0.8  # type: ignore[attr-defined]
    with pytest.raises(ConfigError):  # a new app reads the file again
        create_app(WebSettings(db=db, now=NOW))
