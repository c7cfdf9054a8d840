"""The one clock the TUI reads for ages ("2 years ago"); tests freeze it."""

from __future__ import annotations

import time


def now() -> float:
    """Seconds since the epoch, as ages are computed against."""
    return time.time()
