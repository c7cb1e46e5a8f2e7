"""The caches' files are written whole: a reader sees the old one or the new one, and a write
that fails leaves the old file and no temporary one."""

from __future__ import annotations

from pathlib import Path

import pytest

from karmabank.store.cache_files import write_whole


def test_a_file_is_replaced_whole_and_a_failed_write_leaves_the_old_one(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "likelihood-abc.json"
    write_whole(path, lambda p: p.write_text("old"))
    assert path.read_text() == "old"

    def half(p: Path) -> None:
        p.write_text("ne")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_whole(path, half)
    assert path.read_text() == "old"
    assert sorted(q.name for q in path.parent.iterdir()) == ["likelihood-abc.json"]
    assert list(path.parent.glob("likelihood*")) == [path]  # a pruning glob takes no temporary
