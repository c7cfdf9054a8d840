"""Real images for the tests, made with real tools (umoci, skopeo, busybox-static)
or, for malformed input, written byte by byte with Python's tarfile."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

BUSYBOX = shutil.which("busybox") or "/bin/busybox"
FIXED_TIME = "2024-01-01T00:00:00Z"


def have(*tools: str) -> bool:
    return all(shutil.which(t) for t in tools)


def need(*tools: str) -> None:
    """Skip the test with a clear reason unless every tool is installed."""
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (CI installs them with apt: see .ci/run)")


def busybox_static() -> str:
    """The path of a static busybox, skipping when busybox-static is absent."""
    path = shutil.which("busybox")
    if not path:
        pytest.skip("needs busybox-static (apt install busybox-static)")
    out = subprocess.run(["file", "-L", path], capture_output=True, text=True).stdout if shutil.which("file") else ""
    if out and "statically linked" not in out and "static-pie" not in out:
        pytest.skip("busybox is not statically linked (apt install busybox-static)")
    return path


def run(*cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, **kw)


def umoci_image(work: Path, name: str = "base") -> Path:
    """A four-layer OCI layout made by umoci over a busybox rootfs.

    Layer 1: /bin/busybox, /bin/sh -> busybox (symlink), /bin/ln (hardlink to busybox),
             /bin/su (setuid), /etc/hostname, /etc/deleteme, /usr/share/doc/{a.txt,old/b.txt}
    Layer 2: deletes /etc/deleteme (a .wh. whiteout), rewrites /etc/hostname, adds /app/data.bin
    Layer 3: replaces /usr/share/doc with an opaque directory holding only new.txt
    Layer 4: replaces the file /app/data.bin by a directory
    """
    need("umoci")
    bb = busybox_static()
    layout = work / "oci"
    bundle = work / "bundle"
    if not layout.exists():
        run("umoci", "init", "--layout", layout)
    ref = f"{layout}:{name}"
    run("umoci", "new", "--image", ref)
    run("umoci", "config", "--image", ref, "--created", FIXED_TIME, "--config.env", "PATH=/bin",
        "--config.cmd", "/bin/sh", "--config.label", "org.example.kind=test", "--history.created", FIXED_TIME)
    run("umoci", "unpack", "--image", ref, bundle)
    root = bundle / "rootfs"
    for d in ("bin", "etc", "usr/share/doc/old"):
        (root / d).mkdir(parents=True, exist_ok=True)
    shutil.copy(bb, root / "bin/busybox")
    os.symlink("busybox", root / "bin/sh")
    os.link(root / "bin/busybox", root / "bin/ln")
    shutil.copy(bb, root / "bin/su")
    os.chmod(root / "bin/su", 0o4755)
    (root / "etc/hostname").write_text("strata\n")
    (root / "etc/deleteme").write_text("to be deleted\n")
    (root / "usr/share/doc/a.txt").write_text("doc a\n")
    (root / "usr/share/doc/old/b.txt").write_text("doc b\n")
    _repack(ref, bundle, "layer one: busybox")
    (root / "etc/deleteme").unlink()
    (root / "etc/hostname").write_text("strata-modified\n")
    (root / "app").mkdir()
    (root / "app/data.bin").write_bytes(os.urandom(4096))
    _repack(ref, bundle, "layer two: delete and modify")
    shutil.rmtree(bundle)
    opaque = _tar_bytes([
        ("usr/share/doc/", None, 0o755),
        ("usr/share/doc/.wh..wh..opq", b"", 0o644),
        ("usr/share/doc/new.txt", b"new doc\n", 0o644),
    ])
    layer_path = work / "opaque.tar"
    layer_path.write_bytes(opaque)
    run("umoci", "raw", "add-layer", "--image", ref, "--history.created", FIXED_TIME,
        "--history.created_by", "layer three: opaque dir", layer_path)
    replace = _tar_bytes([
        ("app/.wh.data.bin", b"", 0o644),
        ("app/data.bin/", None, 0o755),
        ("app/data.bin/inner.txt", b"inner\n", 0o600),
    ])
    layer_path.write_bytes(replace)
    run("umoci", "raw", "add-layer", "--image", ref, "--history.created", FIXED_TIME,
        "--history.created_by", "layer four: file becomes dir", layer_path)
    return layout


def _repack(ref: str, bundle: Path, created_by: str) -> None:
    run("umoci", "repack", "--refresh-bundle", "--history.created", FIXED_TIME,
        "--history.created_by", created_by, "--image", ref, bundle)


def _tar_bytes(members: list[tuple[str, bytes | None, int]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data, mode in members:
            info = tarfile.TarInfo(name.rstrip("/"))
            info.mode = mode
            info.mtime = 1700000000
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def tar_bytes(members) -> bytes:
    """A tar from (name, data-or-None-for-dir, mode) triples."""
    return _tar_bytes(members)


def make_tar(members, fmt=tarfile.PAX_FORMAT, **options) -> bytes:
    """Write *members* — (name, {TarInfo attributes}, data or None) — with tarfile."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, encoding="utf-8",
                      errors="surrogateescape", **options) as tar:
        for name, attrs, data in members:
            info = tarfile.TarInfo(name)
            for key, value in attrs.items():
                setattr(info, key, value)
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def skopeo_copy(src: str, dest: str, *extra: str) -> None:
    need("skopeo")
    run("skopeo", "copy", "-q", *extra, src, dest)


def skopeo_inspect(target: str, *flags: str) -> dict:
    need("skopeo")
    return json.loads(run("skopeo", "inspect", *flags, target).stdout)


def umoci_tree(layout: Path, tag: str, dest: Path) -> dict[str, tuple]:
    """Unpack with umoci and list (type, mode, size, link target) per path."""
    need("umoci")
    run("umoci", "unpack", "--image", f"{layout}:{tag}", dest)
    return fs_tree(dest / "rootfs")


def fs_tree(root: Path) -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            rel = str(full.relative_to(root))
            st = full.lstat()
            if full.is_symlink():
                out[rel] = ("symlink", st.st_mode & 0o7777, 0, os.readlink(full))
            elif full.is_dir():
                out[rel] = ("dir", st.st_mode & 0o7777, 0, "")
            else:
                out[rel] = ("file", st.st_mode & 0o7777, st.st_size, "")
    return out


def docker_archive_bytes(images: list[dict], extra: list[tuple] = (), legacy: bool = True) -> bytes:
    """Write a docker-save tar by hand. Each image: {"layers": [tar bytes], "tags": [...], "config": {...}}."""
    import hashlib

    buf = io.BytesIO()
    manifest = []
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        for img in images:
            layer_paths, diff_ids = [], []
            for data in img["layers"]:
                digest = hashlib.sha256(data).hexdigest()
                path = f"{digest}/layer.tar" if legacy else f"blobs/sha256/{digest}"
                add(path, data)
                layer_paths.append(path)
                diff_ids.append("sha256:" + digest)
            config = {"architecture": "amd64", "os": "linux", "created": FIXED_TIME,
                      "config": {}, "rootfs": {"type": "layers", "diff_ids": diff_ids},
                      "history": [{"created": FIXED_TIME, "created_by": "test"} for _ in diff_ids]}
            config.update(img.get("config") or {})
            cfg = json.dumps(config).encode()
            cfg_hex = hashlib.sha256(cfg).hexdigest()
            cfg_path = f"{cfg_hex}.json" if legacy else f"blobs/sha256/{cfg_hex}"
            add(cfg_path, cfg)
            manifest.append({"Config": cfg_path, "RepoTags": img.get("tags") or None, "Layers": layer_paths})
        for name, data in extra:
            add(name, data)
        add("manifest.json", json.dumps(manifest).encode())
    return buf.getvalue()
