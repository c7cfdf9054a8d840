"""Fixtures for the builder tests: a busybox base image made from busybox-static."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest

from factory import busybox_static, docker_archive_bytes

FIXED = 1704067200  # 2024-01-01T00:00:00Z
BASE_TAG = "busybox:test"


def busybox_layer(bb: str) -> bytes:
    """One layer: /bin/busybox, a symlink per applet, /etc/passwd+group, /tmp, /root."""
    applets = subprocess.run([bb, "--list"], capture_output=True, text=True, check=True).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add_dir(name: str, mode: int = 0o755, owner: int = 0) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, FIXED
            info.uid = info.gid = owner
            tar.addfile(info)

        def add_file(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, FIXED
            tar.addfile(info, io.BytesIO(data))

        for d in ("bin", "etc", "home", "root", "usr", "usr/bin", "var", "dev", "proc"):
            add_dir(d, 0o700 if d == "root" else 0o755)
        add_dir("tmp", 0o1777)
        with open(bb, "rb") as f:
            add_file("bin/busybox", f.read(), 0o755)
        for applet in sorted(set(applets)):
            if applet == "busybox":
                continue
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname, info.mode, info.mtime = tarfile.SYMTYPE, "busybox", 0o777, FIXED
            tar.addfile(info)
        add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
                 b"app:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
        add_file("etc/group", b"root:x:0:\napp:x:1000:\nstaff:x:50:app\nnogroup:x:65534:\n")
        add_dir("home/app", owner=1000)
    return buf.getvalue()


@pytest.fixture(scope="session")
def busybox_archive() -> bytes:
    bb = busybox_static()
    layer = busybox_layer(bb)
    config = {"config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                         "Cmd": ["sh"]},
              "architecture": _arch(), "os": "linux"}
    return docker_archive_bytes([{"layers": [layer], "tags": [BASE_TAG], "config": config}])


def _arch() -> str:
    from engine.platforms import host_platform

    return host_platform().architecture


@pytest.fixture
def base(engine, busybox_archive) -> str:
    """The engine's store with ``busybox:test`` loaded; returns its image ID."""
    loaded = engine.load(io.BytesIO(busybox_archive))
    return loaded[0].id


@pytest.fixture
def ctx(tmp_path) -> Path:
    """An empty build context directory."""
    path = tmp_path / "ctx"
    path.mkdir()
    return path


class Log:
    """Collects a build's Status lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.events = []

    def __call__(self, event) -> None:
        self.events.append(event)
        text = getattr(event, "text", None)
        if text is not None:
            self.lines.append(text)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def log() -> Log:
    return Log()


