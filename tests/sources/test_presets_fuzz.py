"""10,000 generated files through the CSV presets: each built-in preset's header (exact, with
columns dropped, or shuffled) over rows of generated values (dates in every shape, statuses
right and wrong, emails and not), with any delimiter and line ending; each yields only the
importer's items or raises a clean one-line KarmabankError (no traceback)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from karmabank.errors import KarmabankError
from karmabank.sources.base import BadRow, InputFile, OptOutRow, ParsedRow, SkippedRow
from karmabank.sources.csv_source import CsvSource
from karmabank.sources.presets import Preset, names

ITEMS = (ParsedRow, BadRow, SkippedRow, OptOutRow)
FUZZ = settings(
    max_examples=int(os.environ.get("KB_FUZZ_EXAMPLES", "10000")), derandomize=True,
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)  # fmt: skip
FIXTURES = Path(__file__).parent / "fixtures" / "csv-presets"
HEADERS = {
    p.name: p.read_text(encoding="utf-8-sig").splitlines()[0] for p in FIXTURES.glob("*.csv")
}
PRESETS = names()
values = st.one_of(
    st.sampled_from([
        "", "ada@example.org", "Bo@Example.org", "not-an-email", "Checked In", "Attending",
        "Refunded", "Paid", "succeeded", "Failed", "Yes", "No", "Attended", "open", "click",
        "2021-03-04 12:34:56", "04.03.2021 12:34", "3/4/2021 2:34 PM", "2021-03-04 12:34:56 UTC",
        "9999-12-31 23:59:59", "0000-01-01 00:00:00", "25,00", "https://example.org/x",
        "other:civicrm:1", "\x00", '"', "a;b", "a,b",
    ]),
    st.text(max_size=12),
)  # fmt: skip


@st.composite
def files(draw: st.DrawFn) -> tuple[str, bytes]:
    preset = draw(st.sampled_from(PRESETS))
    header = draw(st.sampled_from(sorted(HEADERS.values()))).replace(";", ",").split(",")
    if draw(st.booleans()):
        header = draw(st.permutations(header))[: draw(st.integers(1, len(header)))]
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [delimiter.join(header)]
    for _ in range(draw(st.integers(0, 4))):
        width = len(header) + draw(st.sampled_from([0, 0, 0, -1, 1]))
        lines.append(delimiter.join(draw(values) for _ in range(max(width, 0))))
    data = end.join(lines).encode("utf-8", "surrogatepass")
    return preset, (b"\xef\xbb\xbf" + data if draw(st.booleans()) else data)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@pytest.mark.slow  # about 15 s of CPU (10,000 files written and read)
@FUZZ
@given(case=files())
def test_presets_never_crash(folder: Path, case: tuple[str, bytes]) -> None:
    preset, data = case
    path = folder / "export.csv"
    path.write_bytes(data)
    audience = str(FIXTURES / "mailchimp-subscribed.csv")
    options = {"preset": preset, **({"audience": audience} if "activity" in preset else {})}
    try:
        with InputFile(path) as f:
            for item in CsvSource(options).read(f):
                assert isinstance(item, ITEMS)
    except KarmabankError as e:
        assert str(e) and "\n" not in str(e)


def test_every_preset_loads() -> None:
    for name in PRESETS:
        assert Preset.load(name).description
