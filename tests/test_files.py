"""asr_cnn.files: atomic writes, all or nothing, with ordinary permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from asr_cnn.files import NEW_FILE_MODE, atomic_write, write_text_atomic


def test_success_replaces_the_file_with_ordinary_permissions(tmp_path):
    target = tmp_path / "sub" / "model.pt"
    with atomic_write(target) as tmp:
        assert tmp.parent == target.parent and tmp.suffix == ".pt" and tmp != target
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == NEW_FILE_MODE != 0o600
    assert [p.name for p in target.parent.iterdir()] == ["model.pt"]


def test_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="killed"):
        with atomic_write(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_a_folder_that_takes_no_files_is_named_with_the_file_asked_for():
    target = Path("/proc/model.pt")  # the kernel's folder: no new files, whoever asks
    with pytest.raises(OSError) as raised:
        with atomic_write(target):
            pass
    assert raised.value.filename == str(target)  # not the temporary name next to it


def test_text_is_written_as_a_new_file_so_hard_links_keep_the_old_text(tmp_path):
    original, copy = tmp_path / "stream_000.json", tmp_path / "copy.json"
    original.write_text("old")
    os.link(original, copy)  # as `cp -al` copies a corpus
    write_text_atomic(original, "new ü")
    assert original.read_text(encoding="utf-8") == "new ü" and copy.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.json", "stream_000.json"]
