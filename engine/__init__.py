"""Strata's embedded container-image engine (no Textual, no printing)."""

from .api import DiskUsage, Engine, RemoveReport
from .errors import (
    ArchiveError,
    Cancelled,
    Conflict,
    DigestMismatch,
    InvalidReference,
    LockTimeout,
    NotFound,
    RegistryError,
    StoreError,
    StrataError,
    Unsupported,
    UnsafeArchive,
)
from .events import Progress, ProgressCallback, Status
from .image import Image, Layer
from .reference import Reference, parse_reference
from .store import Store, default_store_path

__all__ = [
    "ArchiveError", "Cancelled", "Conflict", "DigestMismatch", "DiskUsage", "Engine", "Image",
    "InvalidReference", "Layer", "LockTimeout", "NotFound", "Progress", "ProgressCallback",
    "Reference", "RegistryError", "RemoveReport", "Status", "Store", "StoreError", "StrataError",
    "Unsupported", "UnsafeArchive", "default_store_path", "parse_reference",
]
