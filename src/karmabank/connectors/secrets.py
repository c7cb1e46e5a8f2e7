"""Where a connection's secret comes from: an environment variable, or the secrets file.

The edge (the CLI, the web app) hands in the process environment and the secrets file's path
(`Settings.secrets_file`, `$KARMABANK_SECRETS_FILE`); nothing here reads the environment itself.
The secrets file holds `NAME=value` lines (blank lines and `#` comments allowed: the format of
a systemd `EnvironmentFile`), and must be readable by its owner only (mode 0600 or stricter):
a file others can read is refused, naming the path and the mode, never its contents.
A variable set in the environment wins over the file.

A secret is returned to the caller, who gives it to the connector's constructor; it is never
stored, printed or logged, and no message here contains it.
"""

from __future__ import annotations

import stat
from collections.abc import Mapping
from pathlib import Path

from karmabank.errors import ConfigError


def secrets_in_file(path: Path) -> dict[str, str]:
    """The `NAME=value` pairs of the secrets file (ConfigError when it is open to others or
    cannot be read; the message never quotes a line)."""
    try:
        mode = path.stat().st_mode
    except OSError as e:
        raise ConfigError(f"secrets file {path}: {e.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"secrets file {path} is open to others (mode {stat.S_IMODE(mode):04o}): "
            f"chmod 600 {path}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"secrets file {path} cannot be read ({type(e).__name__})") from None
    found: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.removeprefix("export ").partition("=")
        if not equals or not name.strip():
            raise ConfigError(f"secrets file {path} line {number}: expected NAME=value")
        found[name.strip()] = _unquoted(value.strip())
    return found


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def read_secret(
    variable: str,
    *,
    connection: str,
    environ: Mapping[str, str],
    secrets_file: Path | None,
) -> str:
    """The secret named `variable`: from `environ`, else from the secrets file, else a
    ConfigError naming the connection and the variable."""
    value = environ.get(variable)
    if not value and secrets_file is not None and secrets_file.exists():
        value = secrets_in_file(secrets_file).get(variable)
    if not value:
        where = f" nor in the secrets file {secrets_file}" if secrets_file else ""
        raise ConfigError(
            f"{connection}: the secret is not set: ${variable} is not in the environment{where}"
        )
    return value
