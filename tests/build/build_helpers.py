"""Helpers the builder tests share (kept out of conftest so test modules can import them)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path


def write(ctx: Path, files: dict[str, str | bytes]) -> Path:
    for name, data in files.items():
        path = ctx / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data)
    return ctx


def layer_members(engine, image_id: str, index: int = -1) -> dict[str, tarfile.TarInfo]:
    """The tar members of one layer of an image, by name."""
    img = engine.store.image(image_id)
    with img.layers[index].uncompressed() as stream:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            return {m.name.rstrip("/"): m for m in tar}


def layer_bytes(engine, image_id: str, index: int, name: str) -> bytes:
    img = engine.store.image(image_id)
    with img.layers[index].uncompressed() as stream:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for m in tar:
                if m.name.rstrip("/") == name:
                    return tar.extractfile(m).read()
    raise KeyError(name)


def flat_files(engine, image_id: str) -> dict[str, tarfile.TarInfo]:
    """The image's flattened filesystem (``export``), by path."""
    buf = io.BytesIO()
    engine.export(image_id, buf)
    buf.seek(0)
    with tarfile.open(fileobj=buf, mode="r") as tar:
        return {m.name.rstrip("/"): m for m in tar.getmembers()}


def flat_read(engine, image_id: str, path: str) -> bytes:
    buf = io.BytesIO()
    engine.export(image_id, buf)
    buf.seek(0)
    with tarfile.open(fileobj=buf, mode="r") as tar:
        return tar.extractfile(path).read()
