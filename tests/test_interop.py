"""Round trips through real peers: skopeo and umoci read what Strata writes, and Strata
reads what they write, with the same digests and the same file tree."""

from __future__ import annotations

import json
import subprocess

import pytest

from factory import fs_tree, need, skopeo_copy, skopeo_inspect, umoci_tree

pytestmark = pytest.mark.peers


def _load(cli, path):
    result = cli("load", "-i", path)
    assert result.code == 0, result
    return result


def test_load_skopeo_docker_archive_then_save_reads_back_in_skopeo(cli, docker_archive, umoci_layout, tmp_path):
    original_config = skopeo_inspect(f"oci:{umoci_layout}:base", "--config")
    original_raw = skopeo_inspect(f"oci:{umoci_layout}:base", "--raw")
    result = _load(cli, docker_archive)
    assert result.out.strip() == "Loaded image: example.com/test/base:1"

    out = tmp_path / "saved.tar"
    assert cli("save", "-o", out, "example.com/test/base:1").code == 0
    raw = skopeo_inspect(f"docker-archive:{out}", "--raw")
    config = skopeo_inspect(f"docker-archive:{out}", "--config")
    assert raw["config"]["digest"] == original_raw["config"]["digest"]
    assert config["rootfs"]["diff_ids"] == original_config["rootfs"]["diff_ids"]
    info = skopeo_inspect(f"docker-archive:{out}")
    assert info["RepoTags"] == [] or info.get("Name") is not None

    # back to OCI with skopeo, unpack with umoci: the same tree as the original
    back = tmp_path / "back"
    skopeo_copy(f"docker-archive:{out}", f"oci:{back}:x")
    assert umoci_tree(back, "x", tmp_path / "b1") == umoci_tree(umoci_layout, "base", tmp_path / "b2")


def test_load_oci_archive_keeps_manifest_and_layers_byte_for_byte(cli, oci_archive, umoci_layout, tmp_path, engine):
    _load(cli, oci_archive)
    original_raw = skopeo_inspect(f"oci:{umoci_layout}:base", "--raw")
    img = engine.image("test/oci:2")
    assert [l.digest for l in img.layers] == [l["digest"] for l in original_raw["layers"]]
    out = tmp_path / "saved.tar"
    assert cli("save", "-o", out, "test/oci:2").code == 0
    # the OCI index inside the docker-archive names the original manifest digest
    back = tmp_path / "back"
    skopeo_copy(f"docker-archive:{out}", f"oci:{back}:x")
    config = skopeo_inspect(f"docker-archive:{out}", "--config")
    assert config["rootfs"]["diff_ids"] == skopeo_inspect(f"oci:{umoci_layout}:base", "--config")["rootfs"]["diff_ids"]
    assert umoci_tree(back, "x", tmp_path / "b1") == umoci_tree(umoci_layout, "base", tmp_path / "b2")


def test_saved_archive_is_an_oci_layout_umoci_reads(cli, oci_archive, umoci_layout, tmp_path):
    need("umoci")
    _load(cli, oci_archive)
    out = tmp_path / "saved.tar"
    assert cli("save", "-o", out, "test/oci:2").code == 0
    layout = tmp_path / "layout"
    layout.mkdir()
    subprocess.run(["tar", "-xf", out, "-C", layout], check=True)
    index = json.loads((layout / "index.json").read_text())
    assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "2"
    assert (json.loads((layout / "manifest.json").read_text())[0]["RepoTags"] == ["test/oci:2"])
    assert umoci_tree(layout, "2", tmp_path / "u1") == umoci_tree(umoci_layout, "base", tmp_path / "u2")


@pytest.mark.parametrize("fmt", ["oci", "oci-dir"])
def test_save_oci_formats_read_by_skopeo(cli, oci_archive, umoci_layout, tmp_path, fmt):
    _load(cli, oci_archive)
    out = tmp_path / ("layout" if fmt == "oci-dir" else "layout.tar")
    assert cli("save", "--format", fmt, "-o", out, "test/oci:2").code == 0
    transport = "oci" if fmt == "oci-dir" else "oci-archive"
    raw = skopeo_inspect(f"{transport}:{out}:2", "--raw")
    assert raw == skopeo_inspect(f"oci:{umoci_layout}:base", "--raw")


@pytest.mark.parametrize("compress", ["gzip", "zstd"])
def test_compressed_whole_archive_round_trip(cli, docker_archive, tmp_path, compress, store_dir):
    _load(cli, docker_archive)
    out = tmp_path / "saved.tar.x"
    assert cli("save", "--compress", compress, "-o", out, "example.com/test/base:1").code == 0
    head = out.read_bytes()[:4]
    assert head.startswith(b"\x1f\x8b" if compress == "gzip" else b"\x28\xb5\x2f\xfd")
    assert cli("rmi", "example.com/test/base:1").code == 0
    assert cli("images", "-q").out == ""
    result = _load(cli, out)
    assert "Loaded image: example.com/test/base:1" in result.out


def test_docker25_layout_load(cli, docker_archive, tmp_path, engine):
    """What strata save writes is the Docker 25+ layout; loading it back changes nothing."""
    _load(cli, docker_archive)
    before = engine.inspect("example.com/test/base:1")
    out = tmp_path / "saved.tar"
    cli("save", "-o", out, "example.com/test/base:1")
    cli("rmi", "example.com/test/base:1")
    _load(cli, out)
    after = engine.inspect("example.com/test/base:1")
    assert after["Id"] == before["Id"]
    assert after["Descriptor"]["digest"] == before["Descriptor"]["digest"]


def test_export_matches_umoci_unpack(cli, oci_archive, umoci_layout, tmp_path):
    _load(cli, oci_archive)
    out = tmp_path / "flat.tar"
    assert cli("export", "-o", out, "test/oci:2").code == 0
    root = tmp_path / "flat"
    root.mkdir()
    subprocess.run(["tar", "-xpf", out, "-C", root], check=True)
    expected = umoci_tree(umoci_layout, "base", tmp_path / "u")
    assert fs_tree(root) == expected
    assert "etc/deleteme" not in expected and "usr/share/doc/old" not in expected
    assert expected["bin/su"][1] == 0o4755


def test_import_export_round_trip(cli, oci_archive, tmp_path, engine):
    _load(cli, oci_archive)
    flat = tmp_path / "flat.tar"
    cli("export", "-o", flat, "test/oci:2")
    result = cli("import", "-c", "CMD [\"/bin/sh\"]", "-m", "hello", flat, "flat:1")
    assert result.code == 0, result
    image_id = result.out.strip()
    assert image_id.startswith("sha256:")
    info = engine.inspect("flat:1")
    assert info["Id"] == image_id and info["Config"]["Cmd"] == ["/bin/sh"]
    assert len(info["RootFS"]["Layers"]) == 1
    assert engine.history("flat:1")[0]["comment"] == "hello"
    out = tmp_path / "flat-saved.tar"
    cli("save", "-o", out, "flat:1")
    assert skopeo_inspect(f"docker-archive:{out}", "--config")["rootfs"]["diff_ids"] == info["RootFS"]["Layers"]


def test_load_oci_layout_directory(cli, umoci_layout, engine):
    result = cli("load", "-i", umoci_layout)
    assert result.code == 0, result
    # umoci's ref.name is a bare tag ("base"): no repository, so the image loads by ID
    assert result.out.startswith("Loaded image ID: sha256:")
    raw = skopeo_inspect(f"oci:{umoci_layout}:base", "--raw")
    image_id = result.out.split()[-1]
    assert engine.store.record(image_id).manifest_digest.startswith("sha256:")
    assert engine.image(image_id).id == raw["config"]["digest"]
