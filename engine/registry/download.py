"""Streaming one blob from a registry, resuming with HTTP ``Range`` when the connection breaks.

:func:`copy_blob` pushes the blob's bytes into a ``write`` callable in 1 MiB
chunks, from a given offset (the bytes before it were already written).  A
broken or stalled connection is reopened with ``Range: bytes=N-``; a registry
that ignores the range (200) has its first N bytes skipped.  Cancellation is
checked on every chunk.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..errors import Cancelled, RegistryError
from .client import RepositoryClient
from .errors import RegistryUnreachable
from .transport import STREAM_ERRORS, describe

CHUNK = 1 << 20


class AnyEvent:
    """Set when any of its events is set (the caller's cancel, another worker's failure)."""

    def __init__(self, *events) -> None:
        self._events = [e for e in events if e is not None]

    def is_set(self) -> bool:
        return any(e.is_set() for e in self._events)


def check_cancel(cancel: threading.Event | AnyEvent | None, what: str) -> None:
    """Raise :class:`Cancelled` if *cancel* is set."""
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"{what}: cancelled")


def copy_blob(client: RepositoryClient, digest: str, size: int | None, write: Callable[[bytes], None],
              offset: int = 0, *, cancel: threading.Event | AnyEvent | None = None,
              on_bytes: Callable[[int], None] | None = None, on_resume: Callable[[int], None] | None = None,
              retries: int = 5, backoff: float = 0.25, sleep: Callable[[float], None] = time.sleep) -> int:
    """Copy blob *digest* into *write* from *offset*; returns the total size.

    A connection that breaks is resumed up to *retries* times in a row (the
    count starts over whenever data arrived).
    """
    what = f"downloading blob {digest[:19]}"
    failures = 0
    while True:
        check_cancel(cancel, what)
        if size is not None and offset >= size:
            return offset
        if offset and on_resume is not None:
            on_resume(offset)
        try:
            response, start = client.open_blob(digest, offset)
        except RegistryUnreachable:
            failures += 1
            if failures > retries:
                raise
            sleep(min(backoff * 2 ** (failures - 1), 8.0))
            continue
        skip = offset - start
        got = 0
        try:
            chunks = response.raw.stream(CHUNK, decode_content=False)
            while True:
                try:
                    chunk = next(chunks, None)
                except STREAM_ERRORS as exc:
                    failures = 0 if got else failures
                    failures += 1
                    if failures > retries:
                        raise RegistryUnreachable(f"{what}: {describe(exc)} (gave up after {retries} retries)") from exc
                    break
                if chunk is None:
                    if size is not None and offset < size:
                        # A body shorter than announced without an error: resume.
                        failures += 1
                        if failures > retries:
                            raise RegistryError(f"{what}: the registry sent {offset} of {size} bytes")
                        break
                    return offset
                check_cancel(cancel, what)
                if skip:
                    cut = min(skip, len(chunk))
                    skip -= cut
                    chunk = chunk[cut:]
                    if not chunk:
                        continue
                write(chunk)
                offset += len(chunk)
                got += len(chunk)
                if on_bytes is not None:
                    on_bytes(len(chunk))
        finally:
            response.close()
        if failures > 1:
            sleep(min(backoff * 2 ** (failures - 2), 8.0))
