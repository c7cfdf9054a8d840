"""Sample images made locally, with no network: the first-run screen and ``strata demo``.

:func:`create_demo_images` loads three images into a store:

* ``demo/webapp:1.0`` (also ``:latest``) — four layers: a busybox base, the
  app (with a 1.5 MB cache file), a step that deletes the cache and rewrites
  the config (wasted space dive-style analysis finds), and static assets with
  a 1,200-file icon directory (a directory big enough to page);
* ``demo/tools:2.3`` — the same base plus a layer of tools;
* an untagged (dangling) older build of the web app.

Everything is generated from fixed seeds with fixed times, so the image IDs
are the same on every run; the base layer holds this machine's
``/bin/busybox`` when there is one (pass ``busybox=None`` for a synthetic,
reproducible stand-in).  :class:`ArchiveBuilder` is the general tool:
benchmarks and tests use it to write docker-archives of any shape.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable

from .events import ProgressCallback, Status, emit
from .platforms import host_platform

__all__ = [
    "ArchiveBuilder",
    "DEMO_NAMES",
    "LayerBuilder",
    "create_demo_images",
    "demo_archive",
]

#: Tags the demo gives (the dangling image has none).
DEMO_NAMES = ("demo/webapp:1.0", "demo/webapp:latest", "demo/tools:2.3")
#: Sentinel: look for busybox on this machine.
FIND_BUSYBOX = "find"
_MTIME = 1_700_000_000  # 2023-11-14, every file's mtime


def _rfc3339(day: str, hour: int = 12) -> str:
    return f"{day}T{hour:02d}:00:00Z"


class LayerBuilder:
    """An uncompressed layer tar written in memory, member by member."""

    def __init__(self) -> None:
        self._buf = io.BytesIO()
        self._tar = tarfile.open(fileobj=self._buf, mode="w", format=tarfile.PAX_FORMAT)
        self._dirs: set[str] = set()

    def _info(self, name: str, type_: bytes, mode: int, uid: int, gid: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type = type_
        info.mode = mode
        info.mtime = _MTIME
        info.uid, info.gid = uid, gid
        info.uname = info.gname = ""
        return info

    def dir(self, name: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> "LayerBuilder":
        name = name.strip("/")
        if name and name not in self._dirs:
            self._dirs.add(name)
            self._tar.addfile(self._info(name, tarfile.DIRTYPE, mode, uid, gid))
        return self

    def _parents(self, name: str) -> None:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            self.dir("/".join(parts[:i]))

    def file(self, name: str, data: bytes | str, mode: int = 0o644, uid: int = 0,
             gid: int = 0) -> "LayerBuilder":
        name = name.strip("/")
        self._parents(name)
        data = data.encode() if isinstance(data, str) else data
        info = self._info(name, tarfile.REGTYPE, mode, uid, gid)
        info.size = len(data)
        self._tar.addfile(info, io.BytesIO(data))
        return self

    def symlink(self, name: str, target: str) -> "LayerBuilder":
        name = name.strip("/")
        self._parents(name)
        info = self._info(name, tarfile.SYMTYPE, 0o777, 0, 0)
        info.linkname = target
        self._tar.addfile(info)
        return self

    def whiteout(self, name: str) -> "LayerBuilder":
        """Delete *name* from the layers below (an AUFS ``.wh.`` entry)."""
        parent, _, base = name.strip("/").rpartition("/")
        return self.file(f"{parent}/.wh.{base}" if parent else f".wh.{base}", b"")

    def finish(self) -> bytes:
        self._tar.close()
        return self._buf.getvalue()


@dataclass
class _Image:
    tags: list[str]
    config: dict
    layers: list[bytes]


@dataclass
class ArchiveBuilder:
    """A docker-archive (``docker save`` layout) of generated images."""

    architecture: str = field(default_factory=lambda: host_platform().architecture)
    _images: list[_Image] = field(default_factory=list)

    def add(self, tags: Iterable[str], layers: list[tuple[bytes | None, str]], created: str,
            config: dict | None = None, comment: str = "") -> None:
        """Add an image: *layers* are ``(tar bytes, created_by)`` bottom first;
        ``None`` bytes make an empty-layer history step (ENV, CMD, ...)."""
        diff_ids = []
        history = []
        blobs = []
        for data, created_by in layers:
            step = {"created": created, "created_by": created_by}
            if comment:
                step["comment"] = comment
            if data is None:
                step["empty_layer"] = True
            else:
                diff_ids.append("sha256:" + hashlib.sha256(data).hexdigest())
                blobs.append(data)
            history.append(step)
        cfg = {
            "architecture": self.architecture,
            "os": "linux",
            "created": created,
            "config": config or {},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        }
        self._images.append(_Image(list(tags), cfg, blobs))

    def write(self, out: BinaryIO) -> None:
        """Write the archive: each layer once, a config per image, ``manifest.json``."""
        written: set[str] = set()
        manifest = []
        with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for image in self._images:
                layer_paths = []
                for data in image.layers:
                    hexd = hashlib.sha256(data).hexdigest()
                    path = f"{hexd}/layer.tar"
                    if hexd not in written:
                        written.add(hexd)
                        _add(tar, path, data)
                    layer_paths.append(path)
                config = json.dumps(image.config, separators=(",", ":"), sort_keys=True).encode()
                config_name = hashlib.sha256(config).hexdigest() + ".json"
                _add(tar, config_name, config)
                manifest.append({"Config": config_name, "RepoTags": image.tags or None,
                                 "Layers": layer_paths})
            _add(tar, "manifest.json", json.dumps(manifest).encode())


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = _MTIME
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


# -- the demo images ---------------------------------------------------------------


def _find_busybox() -> Path | None:
    found = shutil.which("busybox")
    for candidate in (found, "/bin/busybox", "/usr/bin/busybox"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _synthetic_binary(size: int, seed: str) -> bytes:
    """Bytes that look like a small ELF executable (reproducible)."""
    rng = random.Random(seed)
    header = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00\x01\x00\x00\x00"
    strings = b"\x00".join(w.encode() for w in (
        "BusyBox v1.36.1 (demo build)", "Usage: busybox [function [arguments]...]",
        "sh", "ls", "cat", "echo", "httpd", "wget", "vi", "tar", "GLIBC_2.34"))
    body = rng.randbytes(size - len(header) - len(strings))
    return header + strings + body


def _text(rng: random.Random, lines: int, width: int = 60) -> str:
    words = ("layer", "image", "store", "digest", "config", "manifest", "blob", "tag", "index",
             "registry", "build", "cache", "tree", "file", "strata", "daemon", "less")
    out = []
    for _ in range(lines):
        line = []
        while sum(len(w) + 1 for w in line) < width:
            line.append(rng.choice(words))
        out.append(" ".join(line))
    return "\n".join(out) + "\n"


_SERVER_PY = '''\
"""A tiny web app for the Strata demo."""

import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

CONFIG = json.load(open(os.path.join(os.path.dirname(__file__), "config.json")))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"hello": CONFIG["name"], "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    HTTPServer(("0.0.0.0", CONFIG["port"]), Handler).serve_forever()
'''

_OS_RELEASE = 'NAME="Strata Demo Linux"\nID=strata-demo\nVERSION_ID=1.0\nPRETTY_NAME="Strata Demo Linux 1.0"\n'
_PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\napp:x:1000:1000:app:/app:/bin/sh\n"
_GROUP = "root:x:0:\nnogroup:x:65534:\napp:x:1000:\n"
_APPLETS = ("sh", "ls", "cat", "echo", "cp", "mv", "rm", "mkdir", "grep", "sed", "wget", "tar", "vi")


def _base_layer(busybox: Path | None) -> bytes:
    layer = LayerBuilder()
    for d in ("bin", "etc", "root", "tmp", "usr/bin", "usr/local/bin", "var/log"):
        layer.dir(d, 0o1777 if d == "tmp" else 0o755)
    binary = busybox.read_bytes() if busybox is not None else _synthetic_binary(600_000, "busybox")
    layer.file("bin/busybox", binary, 0o755)
    for applet in _APPLETS:
        layer.symlink(f"bin/{applet}", "busybox")
    layer.file("etc/os-release", _OS_RELEASE)
    layer.file("etc/passwd", _PASSWD)
    layer.file("etc/group", _GROUP)
    layer.file("etc/hostname", "strata-demo\n")
    return layer.finish()


def _app_layer(version: str, cache_size: int) -> bytes:
    rng = random.Random("app-" + version)
    layer = LayerBuilder()
    layer.dir("app", uid=1000, gid=1000)
    layer.file("app/server.py", _SERVER_PY, uid=1000, gid=1000)
    config = {"name": "strata-demo", "version": version, "port": 8080, "log_level": "debug"}
    layer.file("app/config.json", json.dumps(config, indent=2) + "\n", uid=1000, gid=1000)
    layer.file("app/requirements.txt", "# no third-party packages\n", uid=1000, gid=1000)
    layer.file("app/README.md", f"# Demo web app {version}\n\n" + _text(rng, 12), uid=1000, gid=1000)
    layer.file("app/cache/data.bin", rng.randbytes(cache_size), uid=1000, gid=1000)
    layer.file("app/cache/index.json", json.dumps({"entries": 4096}) + "\n", uid=1000, gid=1000)
    return layer.finish()


def _cleanup_layer() -> bytes:
    layer = LayerBuilder()
    layer.dir("app", uid=1000, gid=1000)
    layer.whiteout("app/cache")
    config = {"name": "strata-demo", "version": "1.0", "port": 8080, "log_level": "info"}
    layer.file("app/config.json", json.dumps(config, indent=2) + "\n", uid=1000, gid=1000)
    return layer.finish()


def _static_layer() -> bytes:
    rng = random.Random("static")
    layer = LayerBuilder()
    layer.file("app/static/index.html",
               "<!doctype html>\n<html><head><title>Strata demo</title>"
               '<link rel="stylesheet" href="css/site.css"></head>\n'
               "<body><h1>Hello from a daemon-less image</h1>"
               '<script src="js/app.js"></script></body></html>\n')
    for i in range(8):
        layer.file(f"app/static/css/part{i}.css", f".c{i} {{ color: #{rng.randrange(1 << 24):06x}; }}\n" * 40)
    layer.file("app/static/css/site.css", "body { font-family: sans-serif; margin: 2em; }\n")
    for i in range(12):
        layer.file(f"app/static/js/module{i:02d}.js",
                   f"export function f{i}(x) {{ return x * {i}; }}\n" * rng.randrange(20, 120))
    layer.file("app/static/js/app.js", "console.log('strata demo');\n")
    for i in range(6):
        layer.file(f"app/static/img/photo{i}.png", b"\x89PNG\r\n\x1a\n" + rng.randbytes(rng.randrange(20_000, 90_000)))
    for i in range(1200):
        layer.file(f"app/static/icons/icon-{i:04d}.svg",
                   f'<svg xmlns="http://www.w3.org/2000/svg"><circle r="{i % 50}"/></svg>\n')
    return layer.finish()


def _tools_layer() -> bytes:
    rng = random.Random("tools")
    layer = LayerBuilder()
    layer.file("usr/local/bin/healthcheck", "#!/bin/sh\nwget -q -O- http://localhost:8080/ >/dev/null\n", 0o755)
    layer.file("usr/local/bin/backup", "#!/bin/sh\ntar czf /tmp/backup.tgz /app\n", 0o755)
    layer.file("usr/local/bin/jq", _synthetic_binary(180_000, "jq"), 0o755)
    layer.file("usr/local/share/tools/CHANGELOG", _text(rng, 200))
    layer.file("var/log/install.log", _text(rng, 400))
    return layer.finish()


def demo_archive(out: BinaryIO, busybox: Path | str | None = FIND_BUSYBOX) -> None:
    """Write the demo images as one docker-archive to *out*."""
    if busybox == FIND_BUSYBOX:
        busybox = _find_busybox()
    busybox = Path(busybox) if busybox is not None else None
    arch = host_platform().architecture if busybox is not None else "amd64"
    archive = ArchiveBuilder(architecture=arch)
    base = _base_layer(busybox)
    base_steps = [(base, "/bin/sh -c #(nop) ADD file:busybox-rootfs in / "),
                  (None, '/bin/sh -c #(nop)  CMD ["sh"]')]
    app_config = {
        "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "APP_ENV=production"],
        "Cmd": ["/usr/bin/python3", "/app/server.py"],
        "WorkingDir": "/app",
        "User": "1000",
        "ExposedPorts": {"8080/tcp": {}},
        "Labels": {"org.opencontainers.image.title": "Strata demo web app",
                   "org.opencontainers.image.version": "1.0"},
    }
    archive.add(["demo/webapp:1.0", "demo/webapp:latest"], base_steps + [
        (None, "ENV APP_ENV=production"),
        (None, "WORKDIR /app"),
        (_app_layer("1.0", 1_500_000), "COPY app/ /app/ # buildkit"),
        (_cleanup_layer(), "RUN /bin/sh -c rm -rf /app/cache && sed -i s/debug/info/ /app/config.json # buildkit"),
        (_static_layer(), "COPY static/ /app/static/ # buildkit"),
        (None, "EXPOSE map[8080/tcp:{}]"),
        (None, "USER 1000"),
        (None, 'CMD ["/usr/bin/python3" "/app/server.py"]'),
    ], created=_rfc3339("2024-05-20"), config=app_config)
    archive.add(["demo/tools:2.3"], base_steps + [
        (_tools_layer(), "COPY tools/ /usr/local/ # buildkit"),
        (None, 'ENTRYPOINT ["/usr/local/bin/healthcheck"]'),
    ], created=_rfc3339("2024-02-10"),
        config={"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"], "Entrypoint": ["/usr/local/bin/healthcheck"],
                "Labels": {"org.opencontainers.image.title": "Strata demo tools"}})
    archive.add([], base_steps + [
        (_app_layer("0.9", 900_000), "COPY app/ /app/ # buildkit"),
        (None, 'CMD ["/usr/bin/python3" "/app/server.py"]'),
    ], created=_rfc3339("2024-05-01"), config={"Cmd": ["/usr/bin/python3", "/app/server.py"],
                                              "WorkingDir": "/app"})
    archive.write(out)


def create_demo_images(engine, busybox: Path | str | None = FIND_BUSYBOX,
                       progress: ProgressCallback | None = None) -> list[str]:
    """Load the demo images into *engine*'s store; returns the IDs loaded."""
    emit(progress, Status("Generating sample images"))
    buf = io.BytesIO()
    demo_archive(buf, busybox)
    buf.seek(0)
    loaded = engine.load(buf, progress=progress)
    for item in loaded:
        names = ", ".join(t.familiar() for t in item.tags) or f"<none> ({item.id[7:19]})"
        emit(progress, Status(f"Loaded image: {names}"))
    return [item.id for item in loaded]
