"""A fix for a race in Gradio 6.31's file cache that broke downloads when many users got the same picture.

Gradio saves an image a handler returns under a name made from a hash of its bytes, and always
rewrites the file (`write_bytes`: truncate, then write). When two requests return the same
picture (a lecture hall pressing the same button with the default seed), one request's rewrite
empties the file while the other's download is streaming it: the server declares the full
length, sends less, and the client sees "peer closed connection" (h11 "Too little data for
declared Content-Length" in the server log). Found by tests/api/test_memory.py and the load test.

The fix does what Gradio already does for copied files (`save_file_to_cache`): a file whose
content-addressed name exists already holds these bytes, so it is only touched (delete_cache ages
files by their times); a new one is written under a temporary name and renamed into place, which
never changes a file a reader has open.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gradio import processing_utils


def _store(folder: Path, name: str, data: bytes) -> str:
    folder.mkdir(exist_ok=True, parents=True)
    path = (folder / name).resolve()
    if path.exists():
        try:
            os.utime(path)
        except OSError:  # deleted by the cache cleaner meanwhile: write it again below
            pass
        else:
            return str(path)
    fd, staging = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return str(path)


def save_pil_to_cache(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    data = processing_utils.encode_pil_to_bytes(img, format)
    return _store(Path(cache_dir) / processing_utils.hash_bytes(data), f"{name}.{format}", data)


def save_bytes_to_cache(data: bytes, file_name: str, cache_dir: str) -> str:
    if not Path(file_name).suffix:
        file_name = file_name + processing_utils.detect_audio_format(data)
    return _store(Path(cache_dir) / processing_utils.hash_bytes(data), Path(file_name).name, data)


def apply() -> None:
    """Install the fix (idempotent). Callers inside gradio look these functions up on the module."""
    processing_utils.save_pil_to_cache = save_pil_to_cache
    processing_utils.save_bytes_to_cache = save_bytes_to_cache
