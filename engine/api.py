"""The engine's public API: one object the CLI and the TUI both call."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .compression import Compressor
from .errors import Conflict, InvalidReference, NotFound
from .events import ByteCounter, ProgressCallback, Status, emit
from .export import export_flat
from .image import Image
from .importer import import_image
from .listing import ImageFilter, ImageRow, rows_for
from .load import LoadedImage, load
from .metadata import ImageRecord, Metadata
from .reference import Reference, parse_reference
from .analysis_ops import AnalysisOps
from .build.ops import BuildOps
from .registry.ops import RegistryOps
from .save import SaveItem, write_docker_archive, write_oci_archive, write_oci_dir
from .store import Store


@dataclass
class RemoveReport:
    """What ``remove``/``prune`` did, in docker's words."""

    untagged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    reclaimed: int = 0

    def lines(self) -> list[str]:
        return [f"Untagged: {u}" for u in self.untagged] + [f"Deleted: {d}" for d in self.deleted]


@dataclass
class DiskUsage:
    images: int
    active: int
    size: int
    reclaimable: int
    per_image: list[dict]
    build_cache: int = 0
    build_cache_count: int = 0


class Engine(AnalysisOps, RegistryOps, BuildOps):
    """Strata's embedded engine over one store directory."""

    def __init__(self, store: Store | Path | str | None = None) -> None:
        self.store = store if isinstance(store, Store) else Store(store)

    # -- lookups -----------------------------------------------------------------

    def resolve(self, text: str) -> str:
        """The image ID a reference, ID or short ID names."""
        return self.store.resolve(text)

    def image(self, text: str) -> Image:
        return self.store.image(self.resolve(text))

    def record(self, text: str) -> ImageRecord:
        return self.store.record(self.resolve(text))

    def images(self, reference: str | None = None, all: bool = False,
               filters: list[str] | None = None) -> list[ImageRow]:
        """Rows as ``docker images`` lists them, newest first."""
        flt = ImageFilter(list(filters or []), resolve=self.resolve)
        if reference:
            flt.terms.setdefault("reference", []).append(reference)
        records = self.store.meta.images()
        by_id = {r.id: r for r in records}
        kept = [r for r in records if flt.match_record(r, lambda i: by_id[i])]
        return [row for row in rows_for(kept, include_intermediate=all) if flt.match_row(row)]

    def inspect(self, text: str) -> dict:
        """docker-compatible ``image inspect`` JSON for one image."""
        image_id = self.resolve(text)
        rec = self.store.record(image_id)
        img = self.store.image(image_id)
        cfg = img.config
        out = {
            "Id": image_id,
            "RepoTags": [parse_reference(t).familiar() for t in rec.tags],
            "RepoDigests": [_familiar_digest(d) for d in rec.repo_digests],
            "Parent": rec.parent or "",
            "Comment": _last_comment(cfg),
            "Created": cfg.get("created") or "0001-01-01T00:00:00Z",
            "DockerVersion": cfg.get("docker_version", ""),
            "Author": cfg.get("author", ""),
            "Config": cfg.get("config") or {},
            "Architecture": cfg.get("architecture", ""),
        }
        if cfg.get("variant"):
            out["Variant"] = cfg["variant"]
        out.update({
            "Os": cfg.get("os", ""),
            "Size": rec.size,
            "RootFS": {"Type": (cfg.get("rootfs") or {}).get("type", "layers"), "Layers": img.diff_ids},
            "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"},
            "Descriptor": {"mediaType": rec.manifest_media_type, "digest": rec.manifest_digest,
                           "size": self.store.blobs.size(rec.manifest_digest)},
        })
        return out

    def history(self, text: str) -> list[dict]:
        """``docker history`` rows, newest first: id, created, created_by, size, comment."""
        image_id = self.resolve(text)
        img = self.store.image(image_id)
        rows = []
        for entry in img.history():
            layer = entry["layer"]
            size = 0
            if layer is not None:
                size = layer.uncompressed_size if layer.uncompressed_size is not None else layer.size
            rows.append({"id": "<missing>", "created": entry.get("created"),
                         "created_by": entry.get("created_by", ""), "size": size,
                         "comment": entry.get("comment", ""), "empty_layer": layer is None})
        rows.reverse()
        if rows:
            rows[0]["id"] = image_id
        return rows

    # -- names -------------------------------------------------------------------

    def tag(self, source: str, target: str) -> Reference:
        """Give the image *source* names the name *target* (``docker tag``)."""
        image_id = self.resolve(source)
        ref = parse_reference(target)
        if ref.digest is not None:
            raise InvalidReference(f"refusing to create a tag with a digest reference: {target}")
        ref = ref.tagged_or_latest()
        with self.store.meta.transaction() as db:
            Metadata.set_tag(db, str(ref), image_id)
        return ref

    def remove(self, names: list[str], force: bool = False) -> RemoveReport:
        """``docker rmi``: untag, and delete images left without names.

        Blobs another image still uses stay in the store.
        """
        report = RemoveReport()
        errors: list[str] = []
        with self.store.deleting():
            for name in names:
                try:
                    self._remove_one(name, force, report)
                except (NotFound, Conflict, InvalidReference) as exc:
                    errors.append(exc.message)
            report.reclaimed += self.store.collect_garbage()
        if errors:
            err = Conflict("; ".join(errors)) if any("conflict" in e for e in errors) else NotFound("; ".join(errors))
            err.report = report  # type: ignore[attr-defined]
            raise err
        return report

    def _remove_one(self, name: str, force: bool, report: RemoveReport) -> None:
        image_id = self.resolve(name)
        rec = self.store.record(image_id)
        by_name = self._names_match(name, rec)
        with self.store.meta.transaction() as db:
            if by_name is not None:
                db.execute("DELETE FROM tags WHERE name = ?", (str(by_name),))
                report.untagged.append(by_name.familiar())
                if by_name.digest is not None:
                    db.execute("DELETE FROM repo_digests WHERE repo = ? AND digest = ? AND image_id = ?",
                               (by_name.name, by_name.digest, image_id))
                remaining = db.execute("SELECT COUNT(*) FROM tags WHERE image_id = ?", (image_id,)).fetchone()[0]
                if remaining:
                    return
                for rd in rec.repo_digests:
                    report.untagged.append(_familiar_digest(rd))
            else:
                repos = {parse_reference(t).name for t in rec.tags}
                if len(repos) > 1 and not force:
                    raise Conflict(
                        f"conflict: unable to delete {image_id[7:19]} (must be forced) - "
                        "image is referenced in multiple repositories")
                for t in rec.tags:
                    report.untagged.append(parse_reference(t).familiar())
                for rd in rec.repo_digests:
                    report.untagged.append(_familiar_digest(rd))
            children = db.execute(
                "SELECT COUNT(*) FROM images WHERE parent = ? AND intermediate = 0", (image_id,)).fetchone()[0]
            if children and not force:
                raise Conflict(
                    f"conflict: unable to delete {image_id[7:19]} (cannot be forced) - image has dependent child images")
            Metadata.delete_image(db, image_id)
            db.execute("UPDATE images SET parent = NULL WHERE parent = ?", (image_id,))
            report.deleted.append(image_id)

    @staticmethod
    def _names_match(name: str, rec: ImageRecord) -> Reference | None:
        """The tag or digest reference *name* addresses, if it addresses one of *rec*'s names."""
        try:
            ref = parse_reference(name)
        except InvalidReference:
            return None
        if ref.digest is not None:
            return ref if f"{ref.name}@{ref.digest}" in rec.repo_digests else None
        ref = ref.tagged_or_latest()
        return ref if str(ref) in rec.tags else None

    # -- archives ----------------------------------------------------------------

    def load(self, stream: BinaryIO, progress: ProgressCallback | None = None) -> list[LoadedImage]:
        """Load a docker-archive or OCI-layout tar (optionally gzip/zstd compressed)."""
        counter = ByteCounter(progress, "archive", "Loading")
        loaded = load(self.store, stream, counter)
        counter.done()
        for item in loaded:
            for tag, old in item.replaced.items():
                emit(progress, Status(
                    f"The image {parse_reference(tag).familiar()} already exists, renaming the old one "
                    f"with ID {old} to empty string"))
        return loaded

    def save_items(self, names: list[str]) -> list[SaveItem]:
        """Which images and names ``save`` writes, with docker's rules for repositories."""
        items: dict[str, SaveItem] = {}
        for name in names:
            for image_id, tag in self._save_targets(name):
                item = items.get(image_id)
                if item is None:
                    item = items[image_id] = SaveItem(self.store.image(image_id))
                if tag is not None and tag not in item.tags:
                    item.tags.append(tag)
        return list(items.values())

    def _save_targets(self, name: str) -> list[tuple[str, Reference | None]]:
        try:
            ref = parse_reference(name)
        except InvalidReference:
            ref = None
        if ref is not None and ref.tag is None and ref.digest is None:
            # a bare repository saves every tag of it, as docker does
            tagged = [parse_reference(t) for r in self.store.meta.images() for t in r.tags]
            hits = [(self.store.meta.tag_target(str(t)), t) for t in tagged if t.name == ref.name]
            if hits:
                return hits  # type: ignore[return-value]
        image_id = self.resolve(name)
        if ref is not None and ref.digest is None and self.store.resolve_reference(ref) == image_id:
            return [(image_id, ref.tagged_or_latest())]
        return [(image_id, None)]

    def save(self, names: list[str], out: BinaryIO | Path, format: str = "docker",
             compression: str | None = None, progress: ProgressCallback | None = None) -> None:
        """Write images as a docker-archive (default), an OCI archive, or an OCI layout dir."""
        items = self.save_items(names)
        counter = ByteCounter(progress, "archive", "Saving")
        if format == "oci-dir":
            write_oci_dir(self.store, items, Path(out), counter)
            counter.done()
            return
        writer = {"docker": write_docker_archive, "oci": write_oci_archive}.get(format)
        if writer is None:
            raise InvalidReference(f"unknown archive format {format!r}: use docker, oci or oci-dir")
        if isinstance(out, (str, Path)):
            _write_atomically(Path(out), lambda f: self._write_compressed(writer, items, f, compression, counter))
        else:
            self._write_compressed(writer, items, out, compression, counter)
        counter.done()

    def _write_compressed(self, writer, items, out: BinaryIO, compression, counter) -> None:
        if compression in (None, "none"):
            writer(self.store, items, out, counter)
            return
        comp = Compressor(compression)
        sink = _CompressingWriter(out, comp)
        writer(self.store, items, sink, counter)
        sink.close()

    def import_image(self, stream: BinaryIO, reference: str | None = None, message: str = "",
                     changes: list[str] | None = None, source: str = "-",
                     platform: str | None = None) -> str:
        """``docker import``: a rootfs tarball becomes a one-layer image; returns its ID."""
        return import_image(self.store, stream, reference, message, changes, source, platform)

    def export(self, text: str, out: BinaryIO | Path) -> None:
        """The image's flattened filesystem (whiteouts applied) as one tar."""
        image_id = self.resolve(text)
        img = self.store.image(image_id)
        indexes = [self.store.layer_index(layer) for layer in img.layers]
        if isinstance(out, (str, Path)):
            _write_atomically(Path(out), lambda f: export_flat(img, indexes, f))
        else:
            export_flat(img, indexes, out)

    # -- maintenance ---------------------------------------------------------------

    def prune(self, all: bool = False, filters: list[str] | None = None,
              dry_run: bool = False) -> RemoveReport:
        """``docker image prune``: remove dangling (or, with *all*, unused) images, then orphan blobs."""
        flt = ImageFilter(list(filters or []), resolve=self.resolve)
        for key in flt.terms:
            if key not in ("until", "label", "label!"):
                raise InvalidReference(f"invalid filter {key!r} for prune (use until, label or label!)")
        report = RemoveReport()
        with self.store.deleting():
            records = self.store.meta.images()
            by_id = {r.id: r for r in records}
            victims = [r for r in records if (all or not r.tags) and flt.match_record(r, by_id.get)]
            victim_ids = {r.id for r in victims}
            if dry_run:
                report.reclaimed = self._exclusive_size(victim_ids)
                for r in victims:
                    report.untagged += [parse_reference(t).familiar() for t in r.tags]
                    report.deleted.append(r.id)
                return report
            with self.store.meta.transaction() as db:
                for r in victims:
                    report.untagged += [parse_reference(t).familiar() for t in r.tags]
                    report.untagged += [_familiar_digest(d) for d in r.repo_digests]
                    Metadata.delete_image(db, r.id)
                    report.deleted.append(r.id)
                if victim_ids:
                    db.execute(
                        f"UPDATE images SET parent = NULL WHERE parent IN ({','.join('?' * len(victim_ids))})",
                        tuple(victim_ids))
            report.reclaimed = self.store.collect_garbage()
        return report

    def _exclusive_size(self, image_ids: set[str]) -> int:
        """Bytes that deleting *image_ids* would free (blobs no other image uses)."""
        db = self.store.meta.db
        keep: set[str] = set()
        gone: set[str] = set()
        for image_id, digest in db.execute("SELECT image_id, digest FROM image_blobs"):
            (gone if image_id in image_ids else keep).add(digest)
        total = 0
        for digest in gone - keep:
            try:
                total += self.store.blobs.size(digest)
            except NotFound:
                pass
        return total

    def disk_usage(self) -> DiskUsage:
        """``docker system df``: totals, per-image shared/unique sizes, and the build cache.

        Intermediate images (build cache) are counted under the build cache: the
        bytes of layers that only they use.
        """
        all_records = self.store.meta.images()
        records = [r for r in all_records if not r.intermediate or r.tags]
        cache_ids = {r.id for r in all_records} - {r.id for r in records}
        db = self.store.meta.db
        layer_size = {d: u for d, u in db.execute("SELECT digest, uncompressed_size FROM layers")}
        users: dict[str, int] = {}
        cache_users: dict[str, int] = {}
        image_layers: dict[str, list[str]] = {}
        for image_id, digest in db.execute("SELECT image_id, digest FROM image_blobs"):
            if digest not in layer_size:
                continue
            if image_id in cache_ids:
                cache_users[digest] = cache_users.get(digest, 0) + 1
                continue
            image_layers.setdefault(image_id, []).append(digest)
            users[digest] = users.get(digest, 0) + 1
        per_image = []
        for rec in records:
            layers = image_layers.get(rec.id, [])
            shared = sum(layer_size[d] for d in layers if users[d] > 1)
            unique = sum(layer_size[d] for d in layers if users[d] == 1)
            per_image.append({"record": rec, "shared": shared, "unique": unique, "size": rec.size})
        total = sum(layer_size[d] for d in users)
        cache_only = sum(layer_size[d] for d in cache_users if d not in users)
        return DiskUsage(images=len(records), active=0, size=total, reclaimable=total,
                         per_image=per_image, build_cache=cache_only, build_cache_count=len(cache_ids))


def _last_comment(config: dict) -> str:
    history = config.get("history") or []
    return history[-1].get("comment", "") if history else ""


def _familiar_digest(repo_digest: str) -> str:
    repo, _, digest = repo_digest.partition("@")
    return parse_reference(repo).familiar_name + "@" + digest


def _write_atomically(path: Path, write) -> None:
    """Write a file through a temp file in the same directory, then rename it.

    A reader never sees a half-written archive under *path*.  Unlike blobs in the
    store it is not fsynced (neither docker save nor skopeo does): that costs
    seconds on big archives and the user's file is not the store's consistency.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class _CompressingWriter:
    def __init__(self, out: BinaryIO, comp: Compressor) -> None:
        self._out = out
        self._comp = comp

    def write(self, data: bytes) -> int:
        chunk = self._comp.feed(data)
        if chunk:
            self._out.write(chunk)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self._out.write(self._comp.finish())
        self._out.flush()

