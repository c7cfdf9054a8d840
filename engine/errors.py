"""Typed errors raised by the engine.

Every error the engine raises for a user mistake or bad input derives from
:class:`StrataError`.  Each carries a short ``title`` (for a UI modal) and a
one-line message (``str(err)``) that says what went wrong and, where it can,
what to do.  Lower-level errors (OSError, tarfile, zstd, requests) are
translated at the module boundary with ``raise ... from``.
"""

from __future__ import annotations


class StrataError(Exception):
    """Base class of every error the engine reports to a user."""

    title = "Error"
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidReference(StrataError, ValueError):
    """An image reference that does not follow the distribution grammar."""

    title = "Invalid reference"


class NotFound(StrataError, LookupError):
    """An image, tag, blob or path that does not exist."""

    title = "Not found"


class Conflict(StrataError):
    """An operation refused because of the store's state (e.g. rmi of a multi-tagged ID)."""

    title = "Conflict"


class DigestMismatch(StrataError):
    """Content whose digest or size does not match what was announced."""

    title = "Digest mismatch"


class ArchiveError(StrataError):
    """A tar archive (or an image layout inside one) that is corrupt or unsupported."""

    title = "Bad archive"


class UnsafeArchive(ArchiveError):
    """A tar member that tries to escape its root or is not allowed there."""

    title = "Unsafe archive"


class StoreError(StrataError):
    """The store could not be opened, locked or written."""

    title = "Store error"


class LockTimeout(StoreError):
    """Another process holds the store lock for too long."""

    title = "Store busy"


class Unsupported(StrataError):
    """A format or feature Strata deliberately does not handle (e.g. schema1)."""

    title = "Unsupported"


class RegistryError(StrataError):
    """A registry answered with an error or could not be reached."""

    title = "Registry error"


class Cancelled(StrataError):
    """A long operation was cancelled by its caller."""

    title = "Cancelled"
