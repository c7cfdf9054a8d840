"""The build cache: step keys, and cached steps stored as intermediate images.

A step's key hashes its parent's key, the instruction after expansion and the
content of its inputs (COPY sources, ADD downloads), so it is a pure function
of everything that can change the step's result.  A cached step is an
intermediate image (``NewImage(intermediate=True)``) plus a row of the
metadata table ``build_cache(key, image_id, added)``; deleting the image (rmi,
prune) deletes its rows, so ``image prune`` reclaims the cache.
"""

from __future__ import annotations

import hashlib
import json
import time

from engine.store import Store

KEY_VERSION = "strata-build-v1"


def step_key(parent: str, kind: str, payload: object) -> str:
    """The cache key of a step of *kind* on top of the state keyed *parent*."""
    data = json.dumps([KEY_VERSION, parent, kind, payload], sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(data.encode("utf-8", "surrogateescape")).hexdigest()


class BuildCache:
    """Lookups and records in ``build_cache``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def lookup(self, key: str) -> str | None:
        """The image a key was cached as, if it (and its blobs) are still in the store."""
        row = self.store.meta.db.execute(
            "SELECT image_id FROM build_cache WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        image_id = row[0]
        if self.store.meta.image(image_id) is None:
            return None
        blobs = self.store.meta.image_blobs(image_id)
        if not blobs or not all(self.store.blobs.has(d) for d in blobs):
            return None
        return image_id

    def record(self, key: str, image_id: str) -> None:
        with self.store.meta.transaction() as db:
            db.execute("INSERT OR REPLACE INTO build_cache(key, image_id, added) VALUES (?, ?, ?)",
                       (key, image_id, time.time()))

    def size(self) -> int:
        """Number of cache rows (for reports)."""
        return self.store.meta.db.execute("SELECT COUNT(*) FROM build_cache").fetchone()[0]


__all__ = ["BuildCache", "step_key"]
