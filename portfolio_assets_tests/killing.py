"""Writers killed in the middle: a child process runs a script, and is SIGKILLed once it has made a marker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path


def kill_at_marker(script: str, marker: Path, what: str, *, env: Mapping[str, str] | None = None) -> int:
    """Run ``script`` in a fresh Python, SIGKILL it as soon as ``marker`` exists (``what`` names the moment in the
    failure when it never does), and return its pid."""
    child = subprocess.Popen([sys.executable, "-c", script], cwd=os.getcwd(), env={**os.environ, **(env or {})})
    try:
        for _ in range(1200):
            if marker.exists() or child.poll() is not None:
                break
            time.sleep(0.05)
        assert marker.exists(), f"the child never reached {what}"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    return child.pid
