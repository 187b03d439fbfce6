"""Is the Hugging Face Hub reachable? A quick, time-bounded check, cached for a few minutes.

The header strip shows the answer, and core.assets asks it before trying a Hub id: with the Hub
unreachable (or HF_HUB_OFFLINE set) the embedded defaults serve and nothing waits on a timeout.
"""

from __future__ import annotations

import os
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass


@dataclass(frozen=True)
class HubStatus:
    reachable: bool
    detail: str  # one sentence for the header strip


HUB_CHECK_TIMEOUT_S = 2.0
HUB_STATUS_TTL_S = 300.0
_hub_cache: tuple[float, HubStatus] | None = None
_hub_lock = threading.Lock()


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hub_status(refresh: bool = False) -> HubStatus:
    """Whether Hub ids can be used now. Respects HF_HUB_OFFLINE; never blocks for long."""
    global _hub_cache
    if _env_flag("HF_HUB_OFFLINE"):
        return HubStatus(False, "Hugging Face Hub: offline (HF_HUB_OFFLINE is set)")
    with _hub_lock:
        if not refresh and _hub_cache and time.monotonic() - _hub_cache[0] < HUB_STATUS_TTL_S:
            return _hub_cache[1]
        url = f"{hub_endpoint()}/api/models?limit=1"
        try:
            with urllib.request.urlopen(url, timeout=HUB_CHECK_TIMEOUT_S) as response:
                ok = response.status == 200
            status = HubStatus(ok, "Hugging Face Hub: reachable" if ok else "Hugging Face Hub: not reachable")
        except (urllib.error.URLError, OSError, ValueError):
            status = HubStatus(False, "Hugging Face Hub: not reachable (embedded models serve)")
        _hub_cache = (time.monotonic(), status)
        return status
