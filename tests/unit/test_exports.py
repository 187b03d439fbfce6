"""Download files the tabs write are unique per call and pruned once stale."""

from __future__ import annotations

import os
import time

from tabs import exports


def test_export_paths_are_unique_and_old_ones_are_pruned(tmp_path, monkeypatch):
    monkeypatch.setattr(exports, "EXPORT_DIR", tmp_path / "exports")
    first = exports.export_path("a.gif")
    second = exports.export_path("a.gif")
    assert first != second and first.name == second.name == "a.gif"
    first.write_bytes(b"GIF89a")
    stale = time.time() - exports.KEEP_SECONDS - 5
    os.utime(first, (stale, stale))
    second.write_bytes(b"GIF89a")
    exports.export_path("b.gif")
    assert not first.exists() and not first.parent.exists()
    assert second.exists()  # still fresh
