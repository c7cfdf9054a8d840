"""The same Dockerfiles built by strata and by ``buildah bud``: same files, same config."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile

import pytest

from build_helpers import write

#: Mount points buildah's chroot isolation leaves in the image; BuildKit (and strata) do not.
BUILDAH_STUBS = {"etc/hostname", "etc/hosts", "etc/resolv.conf", "run", "sys", "proc", "dev"}
COMPARED = ("Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Labels", "Volumes")

DOCKERFILES = {
    "instructions": """ARG BASE
FROM $BASE
ENV APP=/srv/app LANG=C.UTF-8
WORKDIR /srv/app
COPY a.txt ./
COPY dir/ ./dir/
COPY --chown=1000:50 --chmod=640 b.txt /etc/b.txt
ADD pkg.tar.gz /opt/
RUN mkdir -p /var/lib/demo && echo "$APP" > /var/lib/demo/app && rm /etc/group \\
 && ln -s /var/lib/demo/app /app-link && chmod 700 /var/lib/demo
USER app
RUN touch /home/app/made-by-app
EXPOSE 8080 53/udp
VOLUME /data
LABEL org.example.title="demo" version=1
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo hello"]
""",
    "multistage": """ARG BASE
FROM $BASE AS build
RUN mkdir /out && echo artefact > /out/bin && chmod 755 /out/bin
FROM $BASE
COPY --from=build /out/bin /usr/local/bin/tool
WORKDIR /work
CMD ["tool"]
""",
}


def _buildah(tmp_path):
    if not shutil.which("buildah"):
        pytest.skip("needs buildah (apt install buildah) to compare against")
    if os.geteuid() != 0:
        pytest.skip("buildah --isolation chroot with the vfs driver needs root here")
    root = tmp_path / "buildah"
    base = ["buildah", "--root", str(root / "root"), "--runroot", str(root / "run"), "--storage-driver", "vfs"]

    env = {k: v for k, v in os.environ.items() if k != "DOCKER_CONFIG"}

    def run(*args):
        proc = subprocess.run([*base, *map(str, args)], capture_output=True, text=True, timeout=120, env=env)
        if proc.returncode != 0:
            pytest.skip(f"buildah cannot run here: {proc.stderr.strip()[-300:]}")
        return proc.stdout
    return run


def _tree(engine, image_id):
    buf = io.BytesIO()
    engine.export(image_id, buf)
    buf.seek(0)
    out = {}
    with tarfile.open(fileobj=buf) as tar:
        for m in tar:
            kind = "dir" if m.isdir() else "symlink" if m.issym() else "file" if m.isreg() else "other"
            out[m.name.rstrip("/")] = (kind, m.mode & 0o7777, m.size if m.isreg() else 0, m.linkname,
                                       m.uid, m.gid)
    return out


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_same_result_as_buildah(engine, base, ctx, tmp_path, name):
    buildah = _buildah(tmp_path)
    archive = b""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("pkg/data.txt")
        payload = b"packed\n"
        info.size, info.mode = len(payload), 0o644
        tar.addfile(info, io.BytesIO(payload))
    archive = buf.getvalue()
    write(ctx, {"Dockerfile": DOCKERFILES[name], "a.txt": "a\n", "b.txt": "b\n", "dir/x": "x\n",
                "dir/sub/y": "y\n", "pkg.tar.gz": archive})
    saved = tmp_path / "base.tar"
    engine.save(["busybox:test"], saved)
    buildah("pull", "-q", f"docker-archive:{saved}")
    buildah("bud", "--isolation", "chroot", "--pull-never", "--build-arg", "BASE=localhost/busybox:test",
            "-t", "theirs", ctx)
    out = tmp_path / "theirs.tar"
    buildah("push", "theirs", f"docker-archive:{out}:theirs:latest")
    theirs = engine.load(open(out, "rb"))[0].id
    ours = engine.build(ctx, build_args={"BASE": "busybox:test"}).image_id

    our_tree, their_tree = _tree(engine, ours), _tree(engine, theirs)
    for stub in BUILDAH_STUBS - set(_tree(engine, base)):
        their_tree.pop(stub, None)
    assert set(our_tree) - set(their_tree) == set()
    assert set(their_tree) - set(our_tree) == set()
    differing = {p: (our_tree[p], their_tree[p]) for p in our_tree if our_tree[p] != their_tree[p]}
    assert differing == {}

    our_cfg = engine.store.image(ours).config["config"]
    their_cfg = dict(engine.store.image(theirs).config["config"])
    labels = {k: v for k, v in (their_cfg.get("Labels") or {}).items() if not k.startswith("io.buildah")}
    their_cfg["Labels"] = labels or None
    for key in COMPARED:
        assert (our_cfg.get(key) or None) == (their_cfg.get(key) or None), key
