"""Bad input gets a one-line error, a non-zero exit, and leaves the store as it was."""

from __future__ import annotations

import io
import tarfile

import pytest

from factory import docker_archive_bytes, make_tar, tar_bytes

LAYER = tar_bytes([("etc/", None, 0o755), ("etc/motd", b"hello\n", 0o644)])


def _store_state(store_dir):
    blobs = sorted(p.name for p in (store_dir / "blobs/sha256").iterdir()) if (store_dir / "blobs/sha256").exists() else []
    tmp = sorted(p.name for p in (store_dir / "tmp").iterdir()) if (store_dir / "tmp").exists() else []
    indexes = sorted(p.name for p in (store_dir / "indexes/sha256").iterdir()) if (store_dir / "indexes/sha256").exists() else []
    return blobs, tmp, indexes


@pytest.fixture
def baseline(cli, store_dir):
    """A store that already holds one image, so 'unchanged' means something."""
    assert cli("load", stdin=docker_archive_bytes([{"layers": [LAYER], "tags": ["keep:1"]}])).code == 0
    return _store_state(store_dir), cli("images", "-q", "--no-trunc").out


def _raw_tar(members) -> bytes:
    """members: (TarInfo-kwargs dict with "name", data-or-None), in GNU format."""
    return make_tar([(kw["name"], {k: v for k, v in kw.items() if k != "name"}, data)
                     for kw, data in members], fmt=tarfile.GNU_FORMAT)


def _assert_rejected(cli, store_dir, baseline, data: bytes, *phrases: str):
    result = cli("load", stdin=data)
    assert result.code != 0, result
    err = result.err.strip()
    assert err.startswith("Error: ") and "\n" not in err, err
    assert "Traceback" not in result.err
    for phrase in phrases:
        assert phrase in err, err
    state, ids = baseline
    assert _store_state(store_dir) == state
    assert cli("images", "-q", "--no-trunc").out == ids
    return err


def test_bad_reference(cli, baseline):
    for args in (["tag", "keep:1", "app/UPPER"], ["tag", "keep:1", "a:b:c"], ["inspect", "-f", "{{.Id}}", "::"],
                 ["rmi", "bad@sha256:123"]):
        result = cli(*args)
        assert result.code != 0 and "\n" not in result.err.strip() and "Error" in result.err, (args, result)


def test_unknown_image(cli, baseline):
    for args in (["inspect", "nosuch"], ["history", "nosuch"], ["rmi", "nosuch"], ["save", "-o", "/dev/null", "nosuch"],
                 ["tag", "nosuch", "x:1"], ["export", "-o", "/dev/null", "nosuch"]):
        result = cli(*args)
        assert result.code == 1 and "No such image: nosuch" in result.err, (args, result)


def test_not_a_tar(cli, store_dir, baseline):
    _assert_rejected(cli, store_dir, baseline, b"this is not a tar archive at all" * 40, "not a tar")


def test_truncated_archive(cli, store_dir, baseline):
    data = docker_archive_bytes([{"layers": [LAYER, tar_bytes([("x", b"y" * 100000, 0o644)])], "tags": ["t:1"]}])
    _assert_rejected(cli, store_dir, baseline, data[: len(data) // 2], "truncated")


def test_truncated_layer_inside_archive(cli, store_dir, baseline):
    layer = tar_bytes([("big", b"z" * 50000, 0o644)])
    data = docker_archive_bytes([{"layers": [layer[:20000]], "tags": ["t:1"]}])
    _assert_rejected(cli, store_dir, baseline, data, "layer")


def test_no_manifest(cli, store_dir, baseline):
    data = _raw_tar([({"name": "hello.txt"}, b"hi")])
    _assert_rejected(cli, store_dir, baseline, data, "not an image archive")


def test_config_digest_mismatch(cli, store_dir, baseline):
    good = docker_archive_bytes([{"layers": [LAYER], "tags": ["t:1"]}])
    # rename the config so its name no longer matches its content
    src = tarfile.open(fileobj=io.BytesIO(good))
    members = []
    for m in src.getmembers():
        data = src.extractfile(m).read() if m.isfile() else None
        if m.name.endswith(".json") and m.name != "manifest.json":
            data = data.replace(b'"os": "linux"', b'"os": "Linux"')
        members.append(({"name": m.name}, data))
    _assert_rejected(cli, store_dir, baseline, _raw_tar(members), "hashes to")


def test_diff_id_mismatch(cli, store_dir, baseline):
    data = docker_archive_bytes([{"layers": [LAYER], "tags": ["t:1"],
                                  "config": {"rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}}])
    _assert_rejected(cli, store_dir, baseline, data, "diff_id")


def test_oci_blob_digest_mismatch(cli, store_dir, baseline):
    data = docker_archive_bytes([{"layers": [LAYER], "tags": ["t:1"]}], legacy=False)
    src = tarfile.open(fileobj=io.BytesIO(data))
    members = []
    for m in src.getmembers():
        blob = src.extractfile(m).read()
        if m.name.startswith("blobs/") and blob[:1] != b"{":
            blob = blob.replace(b"hello", b"HELLO")
        members.append(({"name": m.name}, blob))
    _assert_rejected(cli, store_dir, baseline, _raw_tar(members), "hashes to")


@pytest.mark.parametrize("member,phrase", [
    ({"name": "../evil.txt"}, "escapes"),
    ({"name": "/etc/evil.txt"}, "absolute"),
    ({"name": "a/../../evil.txt"}, "escapes"),
])
def test_escaping_member_paths(cli, store_dir, baseline, tmp_path, member, phrase):
    good = docker_archive_bytes([{"layers": [LAYER], "tags": ["t:1"]}])
    src = tarfile.open(fileobj=io.BytesIO(good))
    members = [({"name": m.name}, src.extractfile(m).read()) for m in src.getmembers()]
    members.insert(0, (member, b"owned"))
    _assert_rejected(cli, store_dir, baseline, _raw_tar(members), phrase)
    assert not (store_dir.parent / "evil.txt").exists()


@pytest.mark.parametrize("member,phrase", [
    ({"name": "link", "type": tarfile.SYMTYPE, "linkname": "../../../etc/passwd"}, "outside"),
    ({"name": "link", "type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}, "outside"),
    ({"name": "hard", "type": tarfile.LNKTYPE, "linkname": "../etc/passwd"}, "outside"),
    ({"name": "dev", "type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3}, "device"),
    ({"name": "fifo", "type": tarfile.FIFOTYPE}, "device"),
])
def test_links_and_devices_in_archive(cli, store_dir, baseline, member, phrase):
    good = docker_archive_bytes([{"layers": [LAYER], "tags": ["t:1"]}])
    src = tarfile.open(fileobj=io.BytesIO(good))
    members = [({"name": m.name}, src.extractfile(m).read()) for m in src.getmembers()]
    members.insert(0, (member, None))
    _assert_rejected(cli, store_dir, baseline, _raw_tar(members), phrase)


@pytest.mark.parametrize("layer_member", [
    {"name": "../escape.txt"},
    {"name": "etc/../../escape.txt"},
    {"name": "hl", "type": tarfile.LNKTYPE, "linkname": "../../etc/shadow"},
])
def test_malicious_layer_members(cli, store_dir, baseline, layer_member):
    layer = _raw_tar([(dict(layer_member), b"x" if "type" not in layer_member else None)])
    data = docker_archive_bytes([{"layers": [layer], "tags": ["evil:1"]}])
    _assert_rejected(cli, store_dir, baseline, data, "layer")


def test_import_rejects_escaping_tarball(cli, store_dir, baseline, tmp_path):
    bad = tmp_path / "bad.tar"
    bad.write_bytes(_raw_tar([({"name": "../x"}, b"x")]))
    result = cli("import", bad, "evil:1")
    assert result.code != 0 and "\n" not in result.err.strip()
    state, ids = baseline
    assert _store_state(store_dir) == state


def test_load_missing_file(cli, baseline):
    result = cli("load", "-i", "/nonexistent/file.tar")
    assert result.code == 1 and "No such file" in result.err


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
def test_outer_archive_formats_and_long_names(cli, engine, fmt):
    """The outer archive reader handles ustar, GNU long names and PAX records."""
    good = docker_archive_bytes([{"layers": [LAYER], "tags": ["fmt:1"]}], legacy=False)
    src = tarfile.open(fileobj=io.BytesIO(good))
    buf = io.BytesIO()
    long_dir = "d" * 60 + "/" + "e" * 60  # > 100 chars with the file name: needs a long-name record
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for m in src.getmembers():
            data = src.extractfile(m).read()
            info = tarfile.TarInfo(m.name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        extra = tarfile.TarInfo(long_dir + "/notes-" + "x" * 40 + ".txt")
        extra.size = 5
        tar.addfile(extra, io.BytesIO(b"notes"))
    result = cli("load", stdin=buf.getvalue())
    assert result.code == 0, result
    assert engine.resolve("fmt:1")
