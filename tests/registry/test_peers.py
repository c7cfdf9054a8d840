"""Strata and skopeo on the same registry: Strata pulls what skopeo pushed (OCI, Docker v2s2,
zstd layers, a two-platform index) and skopeo reads what Strata pushed."""

from __future__ import annotations

import json
import shutil

import pytest
from factory import skopeo_copy, skopeo_inspect, umoci_tree

from engine import Engine, RegistryError
from engine import mediatypes as mt
from engine.digest import sha256_digest
from engine.platforms import host_platform

pytestmark = pytest.mark.peers
NO_TLS = "--dest-tls-verify=false"


def _inspect(ref: str, *flags: str) -> dict:
    return skopeo_inspect(f"docker://{ref}", "--tls-verify=false", *flags)


def _check_pull_matches_skopeo(engine: Engine, ref: str) -> None:
    """Config digest, diff_ids and RepoDigest as skopeo sees them on the registry."""
    result = engine.pull(ref)
    info = _inspect(ref)
    raw = _inspect(ref, "--raw")
    config = _inspect(ref, "--config")
    assert result.digest == info["Digest"]
    assert result.image_id == raw["config"]["digest"]
    local = engine.inspect(ref)
    assert local["RootFS"]["Layers"] == config["rootfs"]["diff_ids"]
    assert local["RepoDigests"] == [f"{ref.rsplit(':', 1)[0]}@{info['Digest']}"]
    img = engine.image(ref)
    assert [l.digest for l in img.layers] == [l["digest"] for l in raw["layers"]]
    assert [l.media_type for l in img.layers] == [l["mediaType"] for l in raw["layers"]]


@pytest.mark.parametrize("fmt", ["oci", "v2s2"])
def test_pull_what_skopeo_pushed(fmt, umoci_layout, registry, engine):
    ref = registry.repo(fmt) + ":1"
    skopeo_copy(f"oci:{umoci_layout}:base", f"docker://{ref}", NO_TLS, *(["--format", fmt] if fmt == "v2s2" else []))
    _check_pull_matches_skopeo(engine, ref)
    expected = mt.DOCKER_MANIFEST if fmt == "v2s2" else mt.OCI_MANIFEST
    assert engine.store.record(engine.resolve(ref)).manifest_media_type == expected


def test_pull_zstd_layers_pushed_by_skopeo(umoci_layout, registry, engine, tmp_path):
    zstd_layout = tmp_path / "zstd"
    # skopeo 1.9 ignores --dest-compress-format on a direct push: recompress into a layout first
    skopeo_copy(f"oci:{umoci_layout}:base", f"oci:{zstd_layout}:z", "--dest-compress-format", "zstd")
    ref = registry.repo("zstd") + ":1"
    skopeo_copy(f"oci:{zstd_layout}:z", f"docker://{ref}", NO_TLS)
    assert {l["mediaType"] for l in _inspect(ref, "--raw")["layers"]} == {mt.OCI_LAYER_ZSTD}
    _check_pull_matches_skopeo(engine, ref)


def _two_platform_layout(umoci_layout, dest):
    """A copy of the umoci layout with an index of amd64 and arm64/v8 (same layers, two configs)."""
    shutil.copytree(umoci_layout, dest)
    blobs = dest / "blobs" / "sha256"
    index = json.loads((dest / "index.json").read_text())
    base = next(m for m in index["manifests"]
                if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "base")
    manifest = json.loads((blobs / base["digest"][7:]).read_bytes())
    config = json.loads((blobs / manifest["config"]["digest"][7:]).read_bytes())

    def put(data: bytes) -> str:
        digest = sha256_digest(data)
        (blobs / digest[7:]).write_bytes(data)
        return digest

    entries = []
    for arch, variant in (("amd64", None), ("arm64", "v8")):
        cfg = dict(config, architecture=arch)
        if variant:
            cfg["variant"] = variant
        cfg_bytes = json.dumps(cfg).encode()
        man = dict(manifest, config=dict(manifest["config"], digest=put(cfg_bytes), size=len(cfg_bytes)))
        man_bytes = json.dumps(man).encode()
        platform = {"architecture": arch, "os": "linux", **({"variant": variant} if variant else {})}
        entries.append({"mediaType": mt.OCI_MANIFEST, "digest": put(man_bytes), "size": len(man_bytes),
                        "platform": platform})
    index_bytes = json.dumps({"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": entries}).encode()
    index["manifests"].append({"mediaType": mt.OCI_INDEX, "digest": put(index_bytes), "size": len(index_bytes),
                               "annotations": {"org.opencontainers.image.ref.name": "multi"}})
    (dest / "index.json").write_text(json.dumps(index))
    return sha256_digest(index_bytes)


def test_pull_two_platform_index(umoci_layout, registry, engine, tmp_path, cli):
    index_digest = _two_platform_layout(umoci_layout, tmp_path / "multi")
    ref = registry.repo("multi") + ":1"
    skopeo_copy(f"oci:{tmp_path / 'multi'}:multi", f"docker://{ref}", NO_TLS, "--all")
    assert _inspect(ref)["Digest"] == index_digest

    host = engine.pull(ref)
    assert host.digest == index_digest                       # RepoDigest: the index, as docker keeps it
    assert host.manifest_digest != index_digest
    assert engine.image(ref).config["architecture"] == host_platform().architecture
    assert engine.inspect(ref)["RepoDigests"] == [f"{ref.rsplit(':', 1)[0]}@{index_digest}"]
    assert engine.store.blobs.has(index_digest)

    arm = Engine(tmp_path / "arm").pull(ref, platform="linux/arm64")
    arm_image = Engine(tmp_path / "arm").image(ref)
    assert arm_image.config["architecture"] == "arm64" and arm_image.config["variant"] == "v8"
    assert arm.digest == index_digest and arm.image_id != host.image_id

    with pytest.raises(RegistryError, match=r"no matching manifest for linux/s390x.*linux/amd64, linux/arm64/v8"):
        Engine(tmp_path / "s390").pull(ref, platform="linux/s390x")
    listed = json.loads(cli("manifest", "inspect", ref).out)
    assert [m["platform"] for m in listed["Manifests"]] == ["linux/amd64", "linux/arm64/v8"]


def test_skopeo_reads_what_strata_pushed(docker_archive, umoci_layout, registry, engine, cli, tmp_path):
    assert cli("load", "-i", docker_archive).code == 0  # skopeo's docker-archive: layers uncompressed
    ref = registry.repo("strata") + ":1"
    engine.tag("example.com/test/base:1", ref)
    out = cli("push", ref)
    assert out.code == 0, out
    printed = out.out.splitlines()[-1]
    raw_bytes = cli("manifest", "inspect", "--raw", ref).out
    assert printed == f"1: digest: {_inspect(ref)['Digest']} size: {len(raw_bytes.rstrip(chr(10)))}"
    raw = _inspect(ref, "--raw")
    assert {l["mediaType"] for l in raw["layers"]} == {mt.OCI_LAYER_GZIP}
    assert _inspect(ref, "--config")["rootfs"]["diff_ids"] == \
        skopeo_inspect(f"oci:{umoci_layout}:base", "--config")["rootfs"]["diff_ids"]
    back = tmp_path / "back"
    skopeo_copy(f"docker://{ref}", f"oci:{back}:x", "--src-tls-verify=false")
    assert umoci_tree(back, "x", tmp_path / "b1") == umoci_tree(umoci_layout, "base", tmp_path / "b2")
