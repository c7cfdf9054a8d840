"""Cross-process locking of a store.

Writers that only *add* content (load, pull, build, import) take the lock
shared, so they run side by side; operations that *delete* blobs (rmi, prune)
take it exclusive, so a blob is never removed while another process is about
to reference it.  Readers take no lock at all: metadata reads go through
sqlite's WAL snapshots and blobs are immutable once named.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from typing import Iterator

from .errors import LockTimeout

DEFAULT_TIMEOUT = 600.0


@contextlib.contextmanager
def store_lock(path: Path, exclusive: bool, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Hold the lock file at *path* shared or exclusive for the duration of the block."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"store {path.parent} is busy: another strata process holds its lock "
                        f"(waited {timeout:.0f}s); try again when it finishes"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock
