"""Store metadata in sqlite (WAL mode).

Why sqlite: one file, atomic multi-row transactions (an image, its tags and
its blob references land together or not at all), crash safety from the WAL
with ``synchronous=FULL``, and readers that see a consistent snapshot while a
writer commits.  Blobs themselves live as files (see ``content.py``); a row
only ever names a blob that was fsynced and renamed before the transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from .errors import StoreError

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS images(
    id TEXT PRIMARY KEY,
    manifest_digest TEXT NOT NULL,
    manifest_media_type TEXT NOT NULL,
    created TEXT,
    size INTEGER NOT NULL,
    labels TEXT NOT NULL DEFAULT '{}',
    added REAL NOT NULL,
    intermediate INTEGER NOT NULL DEFAULT 0,
    parent TEXT
);
CREATE TABLE IF NOT EXISTS tags(
    name TEXT PRIMARY KEY,
    image_id TEXT NOT NULL,
    added REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tags_image ON tags(image_id);
CREATE TABLE IF NOT EXISTS repo_digests(
    repo TEXT NOT NULL,
    digest TEXT NOT NULL,
    image_id TEXT NOT NULL,
    PRIMARY KEY(repo, digest)
);
CREATE INDEX IF NOT EXISTS repo_digests_image ON repo_digests(image_id);
CREATE TABLE IF NOT EXISTS image_blobs(
    image_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY(image_id, digest)
);
CREATE INDEX IF NOT EXISTS image_blobs_digest ON image_blobs(digest);
CREATE TABLE IF NOT EXISTS layers(
    digest TEXT PRIMARY KEY,
    diff_id TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    uncompressed_size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS layers_diff_id ON layers(diff_id);
CREATE TABLE IF NOT EXISTS blob_sources(
    digest TEXT NOT NULL,
    registry TEXT NOT NULL,
    repository TEXT NOT NULL,
    PRIMARY KEY(digest, registry, repository)
);
CREATE TABLE IF NOT EXISTS build_cache(
    key TEXT PRIMARY KEY,
    image_id TEXT NOT NULL,
    added REAL NOT NULL
);
"""


@dataclass
class ImageRecord:
    """One image as the metadata knows it."""

    id: str
    manifest_digest: str
    manifest_media_type: str
    created: str | None
    size: int
    labels: dict
    added: float
    intermediate: bool = False
    parent: str | None = None
    tags: list[str] = field(default_factory=list)
    repo_digests: list[str] = field(default_factory=list)


@dataclass
class LayerRecord:
    digest: str
    diff_id: str
    media_type: str
    size: int
    uncompressed_size: int


class Metadata:
    """Access to ``meta.db``; one sqlite connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        try:
            self.db.executescript(_SCHEMA)  # idempotent; executescript commits by itself
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise StoreError(f"initialising store metadata {path}: {exc}") from exc

    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                conn.execute("PRAGMA busy_timeout=60000")
            except sqlite3.Error as exc:
                raise StoreError(f"opening store metadata {self.path}: {exc}") from exc
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: BEGIN IMMEDIATE, commit on success, roll back on error."""
        db = self.db
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"writing store metadata: {exc}") from exc
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        else:
            db.execute("COMMIT")

    # -- reads ---------------------------------------------------------------

    def images(self) -> list[ImageRecord]:
        rows = self.db.execute(
            "SELECT id, manifest_digest, manifest_media_type, created, size, labels, added,"
            " intermediate, parent FROM images"
        ).fetchall()
        tags: dict[str, list[str]] = {}
        for name, image_id in self.db.execute("SELECT name, image_id FROM tags ORDER BY added, name"):
            tags.setdefault(image_id, []).append(name)
        digests: dict[str, list[str]] = {}
        for repo, digest, image_id in self.db.execute(
            "SELECT repo, digest, image_id FROM repo_digests ORDER BY repo, digest"
        ):
            digests.setdefault(image_id, []).append(f"{repo}@{digest}")
        return [self._record(r, tags.get(r[0], []), digests.get(r[0], [])) for r in rows]

    def image(self, image_id: str) -> ImageRecord | None:
        row = self.db.execute(
            "SELECT id, manifest_digest, manifest_media_type, created, size, labels, added,"
            " intermediate, parent FROM images WHERE id = ?",
            (image_id,),
        ).fetchone()
        if row is None:
            return None
        tags = [n for (n,) in self.db.execute(
            "SELECT name FROM tags WHERE image_id = ? ORDER BY added, name", (image_id,))]
        digests = [f"{r}@{d}" for r, d in self.db.execute(
            "SELECT repo, digest FROM repo_digests WHERE image_id = ? ORDER BY repo, digest", (image_id,))]
        return self._record(row, tags, digests)

    @staticmethod
    def _record(row, tags: list[str], digests: list[str]) -> ImageRecord:
        return ImageRecord(
            id=row[0], manifest_digest=row[1], manifest_media_type=row[2], created=row[3],
            size=row[4], labels=json.loads(row[5] or "{}"), added=row[6],
            intermediate=bool(row[7]), parent=row[8], tags=tags, repo_digests=digests,
        )

    def image_ids(self) -> list[str]:
        return [i for (i,) in self.db.execute("SELECT id FROM images")]

    def tag_target(self, name: str) -> str | None:
        row = self.db.execute("SELECT image_id FROM tags WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def repo_digest_target(self, repo: str, digest: str) -> str | None:
        row = self.db.execute(
            "SELECT image_id FROM repo_digests WHERE repo = ? AND digest = ?", (repo, digest)
        ).fetchone()
        if row:
            return row[0]
        row = self.db.execute(
            "SELECT id FROM images WHERE manifest_digest = ?", (digest,)
        ).fetchone()
        return row[0] if row else None

    def layer(self, digest: str) -> LayerRecord | None:
        row = self.db.execute(
            "SELECT digest, diff_id, media_type, size, uncompressed_size FROM layers WHERE digest = ?",
            (digest,),
        ).fetchone()
        return LayerRecord(*row) if row else None

    def layer_by_diff_id(self, diff_id: str) -> LayerRecord | None:
        row = self.db.execute(
            "SELECT digest, diff_id, media_type, size, uncompressed_size FROM layers WHERE diff_id = ?",
            (diff_id,),
        ).fetchone()
        return LayerRecord(*row) if row else None

    def layers_by_diff_id(self, diff_id: str) -> list[LayerRecord]:
        """Every stored blob of one layer (e.g. uncompressed, gzip and zstd variants)."""
        return [LayerRecord(*row) for row in self.db.execute(
            "SELECT digest, diff_id, media_type, size, uncompressed_size FROM layers WHERE diff_id = ?"
            " ORDER BY digest", (diff_id,))]

    def image_blobs(self, image_id: str) -> set[str]:
        return {d for (d,) in self.db.execute("SELECT digest FROM image_blobs WHERE image_id = ?", (image_id,))}

    def referenced_blobs(self) -> set[str]:
        return {d for (d,) in self.db.execute("SELECT DISTINCT digest FROM image_blobs")}

    def blob_sources(self, digest: str) -> list[tuple[str, str]]:
        return list(self.db.execute(
            "SELECT registry, repository FROM blob_sources WHERE digest = ?", (digest,)))

    # -- writes (inside ``transaction()``) -------------------------------------

    @staticmethod
    def put_layer(db: sqlite3.Connection, layer: LayerRecord) -> None:
        db.execute(
            "INSERT OR REPLACE INTO layers(digest, diff_id, media_type, size, uncompressed_size)"
            " VALUES (?, ?, ?, ?, ?)",
            (layer.digest, layer.diff_id, layer.media_type, layer.size, layer.uncompressed_size),
        )

    @staticmethod
    def put_image(db: sqlite3.Connection, rec: ImageRecord, blobs: set[str]) -> None:
        existing = db.execute("SELECT added FROM images WHERE id = ?", (rec.id,)).fetchone()
        added = existing[0] if existing else rec.added
        db.execute(
            "INSERT OR REPLACE INTO images(id, manifest_digest, manifest_media_type, created, size,"
            " labels, added, intermediate, parent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rec.id, rec.manifest_digest, rec.manifest_media_type, rec.created, rec.size,
             json.dumps(rec.labels, sort_keys=True), added, int(rec.intermediate), rec.parent),
        )
        # The same config can arrive under another manifest (e.g. gzip vs. uncompressed
        # layers): the image then references only the newest manifest's blobs.
        db.execute("DELETE FROM image_blobs WHERE image_id = ?", (rec.id,))
        db.executemany(
            "INSERT OR IGNORE INTO image_blobs(image_id, digest) VALUES (?, ?)",
            [(rec.id, d) for d in sorted(blobs)],
        )

    @staticmethod
    def set_tag(db: sqlite3.Connection, name: str, image_id: str) -> str | None:
        """Point tag *name* at *image_id*; returns the image it pointed at before."""
        row = db.execute("SELECT image_id FROM tags WHERE name = ?", (name,)).fetchone()
        db.execute(
            "INSERT OR REPLACE INTO tags(name, image_id, added) VALUES (?, ?, ?)",
            (name, image_id, time.time()),
        )
        return row[0] if row else None

    @staticmethod
    def add_repo_digest(db: sqlite3.Connection, repo: str, digest: str, image_id: str) -> None:
        db.execute(
            "INSERT OR REPLACE INTO repo_digests(repo, digest, image_id) VALUES (?, ?, ?)",
            (repo, digest, image_id),
        )

    @staticmethod
    def add_blob_source(db: sqlite3.Connection, digest: str, registry: str, repository: str) -> None:
        db.execute(
            "INSERT OR IGNORE INTO blob_sources(digest, registry, repository) VALUES (?, ?, ?)",
            (digest, registry, repository),
        )

    @staticmethod
    def delete_image(db: sqlite3.Connection, image_id: str) -> None:
        db.execute("DELETE FROM tags WHERE image_id = ?", (image_id,))
        db.execute("DELETE FROM repo_digests WHERE image_id = ?", (image_id,))
        db.execute("DELETE FROM image_blobs WHERE image_id = ?", (image_id,))
        db.execute("DELETE FROM build_cache WHERE image_id = ?", (image_id,))
        db.execute("DELETE FROM images WHERE id = ?", (image_id,))
