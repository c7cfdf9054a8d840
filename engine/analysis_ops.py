"""Analysis operations of the Engine facade: layers, trees, efficiency, file contents, diff."""

from __future__ import annotations

import os
import shutil
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .archive_read import normalize_member_path
from .efficiency import Analysis, Change, analyze, diff
from .errors import NotFound, StrataError, UnsafeArchive
from .export import layer_members
from .filetree import ImageTree, TreeView

_TREE_CACHE_SIZE = 4


@dataclass(frozen=True)
class LayerInfo:
    """One layer of an image as ``strata layers`` shows it."""

    index: int
    digest: str
    diff_id: str
    size: int             # uncompressed bytes
    compressed_size: int  # bytes as stored
    media_type: str
    created_by: str
    created: str | None
    comment: str


class AnalysisOps:
    """Mixed into :class:`engine.api.Engine`."""

    _trees: OrderedDict
    _trees_lock: threading.Lock

    def _tree_cache(self) -> OrderedDict:
        if not hasattr(self, "_trees"):
            self._trees = OrderedDict()
            self._trees_lock = threading.Lock()
        return self._trees

    def layers(self, ref: str) -> list[LayerInfo]:
        """Each layer with its size, diff_id and the history step that made it."""
        img = self.image(ref)  # type: ignore[attr-defined]
        steps = [h for h in img.history() if h["layer"] is not None]
        out = []
        for i, layer in enumerate(img.layers):
            step = next((h for h in steps if h["layer"] is layer), {})
            usize = layer.uncompressed_size if layer.uncompressed_size is not None else layer.size
            out.append(LayerInfo(i, layer.digest, layer.diff_id, usize, layer.size, layer.media_type,
                                 step.get("created_by", ""), step.get("created"), step.get("comment", "")))
        return out

    def layer_indexes(self, ref: str) -> list:
        """The file index of every layer (built on first use and kept in the store)."""
        img = self.image(ref)  # type: ignore[attr-defined]
        return [self.store.layer_index(layer) for layer in img.layers]  # type: ignore[attr-defined]

    def image_tree(self, ref: str) -> ImageTree:
        """The image's ImageTree, cached for the last few images opened."""
        image_id = self.resolve(ref)  # type: ignore[attr-defined]
        cache = self._tree_cache()
        with self._trees_lock:
            tree = cache.get(image_id)
            if tree is not None:
                cache.move_to_end(image_id)
                return tree
        tree = ImageTree(self.layer_indexes(image_id))
        with self._trees_lock:
            cache[image_id] = tree
            while len(cache) > _TREE_CACHE_SIZE:
                cache.popitem(last=False)
        return tree

    def tree_view(self, ref: str, layer: int | None = None, changes=None, prefix: str = "",
                  compare: str = "layer", context: bool = True) -> TreeView:
        """A lazy view of the merged tree or of one layer's changes (dive's semantics).

        ``compare="layer"`` compares layer N with the state below it;
        ``compare="image"`` compares it with the first layer (dive's aggregated view).
        """
        tree = self.image_tree(ref)
        if layer is not None and not (0 <= layer < tree.layer_count):
            raise NotFound(f"layer {layer} does not exist (the image has {tree.layer_count} layers)")
        base = 0 if compare == "image" and layer is not None and layer > 0 else None
        return tree.view(layer, base=base, statuses=changes, prefix=prefix, context=context)

    def analyze(self, ref: str) -> Analysis:
        """dive's efficiency analysis (score, wasted bytes, wasted files)."""
        tree = self.image_tree(ref)
        meta = [{"size": info.size} for info in self.layers(ref)]
        return analyze(tree.layers, meta, tree=tree)

    def diff(self, ref_a: str, ref_b: str) -> list[Change]:
        """Paths added (A), changed (C) or deleted (D) from image A to image B."""
        return diff(self.image_tree(ref_a), self.image_tree(ref_b))

    # -- file contents ---------------------------------------------------------------

    def file_info(self, ref: str, path: str):
        """Where the image gets *path* from (symlinks followed): a filetree.Resolved."""
        resolved = self.image_tree(ref).resolve(path)
        if resolved.entry is None and resolved.layer < 0:
            raise NotFound(f"{path!r} is the root directory, not a file")
        return resolved

    def file_size(self, ref: str, path: str) -> int:
        resolved = self.file_info(ref, path)
        return resolved.entry.size if resolved.entry is not None else 0

    def open_file(self, ref: str, path: str) -> tuple[BinaryIO, int]:
        """A stream of *path*'s bytes as the image sees it, and its size."""
        resolved = self.file_info(ref, path)
        entry = resolved.entry
        if entry is not None and entry.type == "dir":
            raise StrataError(f"{path!r} is a directory")
        img = self.image(ref)  # type: ignore[attr-defined]
        layer = img.layers[resolved.layer]
        stream = layer.uncompressed()
        for tar, member, name in layer_members(stream):
            if name == resolved.member and (member.isreg() or member.islnk()):
                data = tar.extractfile(member)
                if data is None:
                    break
                return _Closing(data, stream), member.size
        stream.close()
        raise NotFound(f"{path!r}: no file data in layer {resolved.layer}")

    def read_file(self, ref: str, path: str, offset: int = 0, length: int = 1 << 16) -> bytes:
        """Up to *length* bytes of *path* from *offset* (for paged viewers)."""
        stream, size = self.open_file(ref, path)
        with stream:
            remaining = offset
            while remaining > 0:
                chunk = stream.read(min(remaining, 1 << 20))
                if not chunk:
                    return b""
                remaining -= len(chunk)
            return stream.read(length)

    def extract(self, ref: str, path: str, dest: Path) -> list[Path]:
        """``cp IMAGE:PATH DEST``: copy a file or a directory out of the image, modes kept.

        Like ``docker cp``: DEST that is an existing directory receives the item
        under its own name; otherwise the item is written as DEST.
        """
        tree = self.image_tree(ref)
        resolved = tree.resolve(path)
        src = resolved.path
        dest = Path(dest)
        target = dest / (Path(src).name or "root") if dest.is_dir() else dest
        view = tree.view(None)
        node = view.node(src) if src else None
        if node is None or node.type != "dir":
            stream, _size = self.open_file(ref, src)
            with stream:
                _write_file(target, stream, node.mode if node is not None else 0o644)
            return [target]
        return self._extract_tree(ref, tree, src, target)

    def _extract_tree(self, ref: str, tree: ImageTree, src: str, target: Path) -> list[Path]:
        """Copy the merged subtree *src* to *target*, layer by layer, nothing outside it."""
        wanted = {node.path: node.layer for node in tree.view(None).walk(src)}
        layers_needed = set(wanted.values())
        img = self.image(ref)  # type: ignore[attr-defined]
        target.mkdir(parents=True, exist_ok=True)
        root = target.resolve()
        written: list[Path] = []
        dirs: list[tuple[Path, int]] = []

        def local(name: str) -> Path:
            rel = name[len(src):].lstrip("/") if src else name
            return target / rel if rel else target

        for li, layer in enumerate(img.layers):
            if li not in layers_needed:
                continue
            with layer.uncompressed() as stream:
                for tar, member, name in layer_members(stream):
                    if wanted.get(name) != li:
                        continue
                    out = local(name)
                    _check_inside(root, out)
                    if member.isdir():
                        out.mkdir(parents=True, exist_ok=True)
                        dirs.append((out, member.mode & 0o7777))
                        continue
                    out.parent.mkdir(parents=True, exist_ok=True)
                    if out.is_symlink() or out.is_file():
                        out.unlink()
                    if member.issym():
                        os.symlink(member.linkname, out)
                    elif member.islnk():
                        link = normalize_member_path(member.linkname)
                        source = local(link) if link == src or link.startswith(src + "/") or not src else None
                        if source is None or not source.exists():
                            continue  # the link's target is outside what is copied
                        os.link(source, out)
                    elif member.isreg():
                        _write_file(out, tar.extractfile(member), member.mode & 0o7777)
                    else:
                        continue  # devices and fifos are not copied out
                    written.append(out)
        for path, mode in reversed(dirs):
            os.chmod(path, mode)
        return written


def _check_inside(root: Path, path: Path) -> None:
    parent = path.parent.resolve()
    if parent != root and root not in parent.parents:
        raise UnsafeArchive(f"refusing to write {path}: it is outside {root}")


def _write_file(target: Path, stream: BinaryIO, mode: int) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.strata-tmp")
    with open(tmp, "wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    os.chmod(tmp, mode & 0o7777)
    os.replace(tmp, target)


class _Closing:
    """A member stream that closes the layer stream under it."""

    def __init__(self, data: BinaryIO, under: BinaryIO) -> None:
        self._data = data
        self._under = under

    def read(self, n: int = -1) -> bytes:
        return self._data.read(n)

    def close(self) -> None:
        self._under.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
