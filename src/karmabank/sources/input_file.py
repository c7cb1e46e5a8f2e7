"""The file an importer reads: plain or gzip, decoded honestly, handed out line by line.

- **Compression**: gzip is recognized by its first bytes, not by the file's name.
- **Encoding**: UTF-8 by default, with or without a byte-order mark. A UTF-16 or UTF-32
  byte-order mark is honoured (the file is decoded as such); a file that looks like UTF-16
  without one is refused with the `--encoding` to use. `--encoding NAME` (any Python text
  codec: `latin-1`, `cp1252`, `utf-16-le`, ...) reads the file in that encoding instead.
- **Undecodable bytes** are never replaced: each becomes the lone surrogate U+DC00 + byte
  (as Python's `surrogateescape` does), which no database accepts, so the rows holding one
  are quarantined with the byte and the `--encoding` hint (`karmabank.sources.limits`).
- **Damage** (a truncated or corrupt gzip, a read error) raises `DamagedFileError` naming
  the line where reading broke; every complete line before it has been handed out.
"""

from __future__ import annotations

import codecs
import gzip
import io
import re
import zlib
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

from karmabank.errors import ConfigError, DamagedFileError, InputFileError

UNDECODABLE = "karmabank.undecodable"
RECENT_LINES = 16_384  # lines kept for the raw text of rows the importers' rules refuse
_BOMS = (  # UTF-32's little-endian mark starts with UTF-16's: test it first
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_UNPRINTABLE = re.compile("[\x00\ud800-\udfff]")


GZIP_MAGIC = b"\x1f\x8b"  # how a gzip file starts, whatever its name


def open_binary(path: Path) -> IO[bytes]:
    """A file's bytes, gunzipped when it starts like gzip (for the binary formats: JSON
    streamed by ijson, CAR files); `InputFile` is the text reader."""
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == GZIP_MAGIC:
        return cast(IO[bytes], gzip.open(path, "rb"))
    return open(path, "rb")  # noqa: SIM115 - the caller closes it


def _undecodable(error: UnicodeError) -> tuple[str, int]:
    """The codec error handler: each byte that does not decode becomes U+DC00 + byte."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(chr(0xDC00 + b) for b in bad), error.end


def text_encoding(name: str) -> str:
    """The codec `--encoding NAME` names; ConfigError when Python knows no such text codec."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise ConfigError(
            f"--encoding: unknown text encoding {name!r} (e.g. utf-8, latin-1, cp1252, utf-16)"
        )
    return info.name


def undecodable_byte(char: str) -> int | None:
    """The byte a character of decoded text stands for when it did not decode, else None."""
    code = ord(char)
    return code - 0xDC00 if 0xDC00 <= code <= 0xDCFF else None


def printable(text: str, limit: int | None = None) -> str:
    """`text` with NUL written `\\x00` and undecodable bytes as `\\xNN` (what a database and a
    terminal accept), cut to `limit` characters."""
    if not text.isascii() or "\x00" in text:

        def escape(m: re.Match[str]) -> str:
            byte = 0 if m.group() == "\x00" else undecodable_byte(m.group())
            return f"\\x{byte:02x}" if byte is not None else f"\\u{ord(m.group()):04x}"

        text = _UNPRINTABLE.sub(escape, text)
    if limit is not None and len(text) > limit:
        text = f"{text[:limit]}… ({len(text) - limit:,} more characters)"
    return text


def _encoding(display: str, head: bytes, given: str | None) -> str:
    """The codec to read a file starting with `head` (decompressed) in."""
    bom = next((enc for mark, enc in _BOMS if head.startswith(mark)), None)
    if given is not None:
        if bom is not None:
            family = "utf-8" if bom == "utf-8-sig" else bom
            if not given.startswith(family):
                raise InputFileError(
                    f"{display}: starts with a {family.upper()} byte-order mark, so it is "
                    f"{family.upper()}, not {given}: leave out --encoding"
                )
            return bom  # the codec that reads the mark instead of keeping it as text
        return "utf-8-sig" if given == "utf-8" else given
    if bom is not None:
        return bom
    if head.startswith(b"PK\x03\x04"):  # a zip (a Mastodon archive): its importer unpacks it
        return "utf-8-sig"
    sample = head[:1024]
    if len(sample) >= 4:
        quarter = len(sample) // 4
        if sample[1::2].count(0) > quarter:
            guess = "utf-16-le"
        elif sample[0::2].count(0) > quarter:
            guess = "utf-16-be"
        else:
            return "utf-8-sig"
        raise InputFileError(
            f"{display}: looks like {guess.upper()} without a byte-order mark (every other "
            f"byte is NUL); import it with --encoding {guess}"
        )
    return "utf-8-sig"


def _damage(error: Exception) -> str:
    """What is wrong with a file whose reading raised `error`."""
    if isinstance(error, EOFError):
        return "the file ends in the middle of its compressed data (a truncated gzip)"
    message = str(error)
    if message.startswith("CRC check failed") or message.startswith("Incorrect length"):
        return (
            f"the gzip checksum does not match ({message}): the file is damaged, so the rows "
            "read from it may hold wrong bytes"
        )
    if message.startswith("Not a gzipped file"):
        return "the data after the compressed data is not gzip (a damaged file)"
    if isinstance(error, gzip.BadGzipFile | zlib.error):
        return f"the gzip data is corrupt ({message})"
    assert isinstance(error, OSError)
    return f"the file cannot be read ({error.strerror or message})"


class InputFile:
    """A file being imported (see the module docstring). `text` hands out its lines, endings
    kept (a CSV reader needs them); `position()` is the bytes read on disk, for progress bars."""

    def __init__(self, path: Path, encoding: str | None = None) -> None:
        self.path = path
        self.display = str(path)
        try:
            self._raw: io.BufferedReader = open(path, "rb")  # noqa: SIM115 - closed in close()
        except FileNotFoundError as e:
            raise InputFileError(f"no such file: {path}") from e
        except IsADirectoryError as e:
            raise InputFileError(f"is a folder, not a file: {path}") from e
        except OSError as e:
            raise InputFileError(f"cannot read {path}: {e.strerror}") from e
        try:
            self.size = path.stat().st_size
            magic = self._raw.read(2)
            self._raw.seek(0)
            binary: io.BufferedReader | gzip.GzipFile = self._raw
            if magic == GZIP_MAGIC:
                binary = gzip.GzipFile(fileobj=self._raw)
            early: Exception | None = None
            try:
                head = binary.peek(1024)[:1024]
            except (EOFError, OSError, zlib.error) as e:
                head, early = b"", e  # damaged from the start: reading says so, at line 1
            given = None if encoding is None else text_encoding(encoding)
            self.encoding = _encoding(self.display, head, given)
        except BaseException:
            self._raw.close()
            raise
        codecs.register_error(UNDECODABLE, _undecodable)
        self._text = io.TextIOWrapper(binary, encoding=self.encoding, errors=UNDECODABLE,
                                      newline="")  # fmt: skip
        self.lines_read = 0
        self._recent: deque[str] = deque(maxlen=RECENT_LINES)
        self.damage: DamagedFileError | None = None  # where and why reading broke off, if it did
        self._early = early
        self.text: Iterator[str] = self._lines(early)

    def _lines(self, early: Exception | None) -> Iterator[str]:
        n = 0
        recent = self._recent.append
        try:
            if early is not None:
                raise early
            for line in self._text:
                n += 1
                self.lines_read = n
                recent(line)
                yield line
        except (EOFError, OSError, zlib.error) as e:
            self.damage = DamagedFileError(self.display, n + 1, _damage(e))
            raise self.damage from None

    def blocks(self, size: int = 1 << 16) -> Iterator[str]:
        """The text in blocks of about `size` characters, for a parser that counts lines itself
        (expat): much faster than `text` line by line. Read a file through one or the other,
        not both. `lines_read` counts the line ends handed out (so `recent_line` knows no
        line); damage is raised as `text` raises it, at the line after the last complete one."""
        n = 0
        try:
            if self._early is not None:
                raise self._early
            read = self._text.read
            while block := read(size):
                n += block.count("\n")
                self.lines_read = n
                yield block
        except (EOFError, OSError, zlib.error) as e:
            self.damage = DamagedFileError(self.display, n + 1, _damage(e))
            raise self.damage from None

    def recent_line(self, line: int) -> str | None:
        """The text of line `line` if it is among the last lines handed out, without its end."""
        back = self.lines_read - line
        if not 0 <= back < len(self._recent):
            return None
        return self._recent[-1 - back].rstrip("\r\n")

    def position(self) -> int:
        """Bytes of the file on disk consumed so far (compressed bytes for .gz)."""
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return self.size

    def close(self) -> None:
        try:
            self._text.close()
        except (EOFError, OSError, zlib.error):
            pass  # a damaged gzip may complain again on close; the damage is reported
        self._raw.close()

    def __enter__(self) -> InputFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
