"""Files the tabs hand to the browser for download (GIFs, PNGs): one folder, kept bounded.

Gradio copies a returned file into its own cache and serves that copy, so ours only has to live
until the handler returns; older ones are pruned on every new export.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

KEEP_SECONDS = 600
EXPORT_DIR = Path(tempfile.gettempdir()) / f"genai-playground-exports-{os.getuid() if hasattr(os, 'getuid') else 0}"


def export_path(filename: str) -> Path:
    """A fresh path ending in `filename` (unique per call) in the export folder."""
    EXPORT_DIR.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - KEEP_SECONDS
    for old in EXPORT_DIR.glob("*/*"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
                old.parent.rmdir()
        except OSError:  # another request pruned it first
            pass
    folder = EXPORT_DIR / uuid.uuid4().hex
    folder.mkdir()
    return folder / filename
