"""Push and pull against a real docker-registry: round trips, CLI output, mounts, chunked
uploads, compression on push, and remote browsing."""

from __future__ import annotations

import json

import pytest
import requests
from registry_servers import load_image

from engine import Engine, NotFound, RegistryError
from engine import mediatypes as mt
from engine.digest import sha256_digest

pytestmark = pytest.mark.peers


def _push(engine, image_ref: str, target: str, **kw):
    engine.tag(image_ref, target)
    return engine.push(target, **kw)


def test_push_compresses_and_pull_gets_the_same_image(engine, small_image, registry, tmp_path):
    target = registry.repo() + ":1"
    result = _push(engine, "local/small:1", target)
    # the uncompressed layers were gzipped: a new manifest, recorded as the RepoDigest
    raw = requests.get(f"{registry.url}/v2/{target.split('/', 1)[1].replace(':1', '')}/manifests/1",
                       headers={"Accept": mt.OCI_MANIFEST}).content
    assert sha256_digest(raw) == result.digest
    manifest = json.loads(raw)
    assert {l["mediaType"] for l in manifest["layers"]} == {mt.OCI_LAYER_GZIP}
    local = engine.inspect(target)
    assert local["RepoDigests"] == [f"{target.rsplit(':', 1)[0]}@{result.digest}"]
    assert local["Descriptor"]["digest"] == result.digest  # the store keeps the pushed manifest

    other = Engine(tmp_path / "other")
    pulled = other.pull(target)
    assert pulled.image_id == small_image
    assert pulled.digest == result.digest
    assert other.inspect(target)["RootFS"] == engine.inspect(target)["RootFS"]
    img = other.image(target)
    assert [l.digest for l in img.layers] == [l["digest"] for l in manifest["layers"]]
    # every pulled layer was indexed in the same pass
    for layer in img.layers:
        assert other.store.index_path(layer.diff_id).exists()
    assert {p.name for p in (tmp_path / "other" / "tmp").iterdir()} == set()


def test_pull_again_is_up_to_date_and_skips_blobs(source, registry, cli):
    target = registry.repo() + ":1"
    _push(source, "local/small:1", target)
    first = cli("pull", target)
    assert first.code == 0, first
    lines = first.out.splitlines()
    assert lines[0] == f"1: Pulling from {target.split('/', 1)[1].rsplit(':', 1)[0]}"
    assert sum(l.endswith(": Pull complete") for l in lines) == 2
    assert lines[-3].startswith("Digest: sha256:")
    assert lines[-2] == f"Status: Downloaded newer image for {target}"
    assert lines[-1] == target
    again = cli("pull", target)
    assert again.code == 0, again
    assert sum(l.endswith(": Already exists") for l in again.out.splitlines()) == 2
    assert f"Status: Image is up to date for {target}" in again.out
    quiet = cli("pull", "-q", target)
    assert quiet.out == target + "\n"


def test_pull_default_tag_by_digest_and_all_tags(source, registry, tmp_path, cli):
    repo = registry.repo()
    pushed = _push(source, "local/small:1", repo + ":latest")
    load_image(source, "local/two:1", [{"two": b"2"}])
    _push(source, "local/two:1", repo + ":two")
    out = cli("pull", repo)
    assert out.code == 0 and out.out.startswith("Using default tag: latest\n"), out
    by_digest = Engine(tmp_path / "d").pull(f"{repo}@{pushed.digest}")
    assert by_digest.reference.tag is None
    assert Engine(tmp_path / "d").inspect(f"{repo}@{pushed.digest}")["RepoTags"] == []
    every = Engine(tmp_path / "a").pull(repo, all_tags=True)
    assert sorted(r.reference.tag for r in every) == ["latest", "two"]
    assert cli("pull", "-a", repo + ":x").code != 0


def test_push_output_existing_layers_and_cross_repo_mount(engine, small_image, registry, cli, tmp_path):
    # cli works on the store of *engine*, which holds local/small:1
    first = registry.repo("src") + ":1"
    engine.tag("local/small:1", first)
    out = cli("push", first)
    assert out.code == 0, out
    lines = out.out.splitlines()
    assert lines[0] == f"The push refers to repository [{first.rsplit(':', 1)[0]}]"
    assert sum(l.endswith(": Pushed") for l in lines) == 2
    assert lines[-1].startswith("1: digest: sha256:") and " size: " in lines[-1]
    again = cli("push", first)
    assert sum(l.endswith(": Layer already exists") for l in again.out.splitlines()) == 2

    # a store that pulled from repo A mounts the blobs into repo B instead of uploading them
    puller = Engine(tmp_path / "p")
    puller.pull(first)
    second = registry.repo("dst") + ":1"
    puller.tag(first, second)
    result = puller.push(second)
    src_repo = first.split("/", 1)[1].rsplit(":", 1)[0]
    assert set(result.outcomes.values()) == {f"Mounted from {src_repo}"}


def test_push_chunked_upload_and_zstd(engine, registry, tmp_path):
    import os

    load_image(engine, "local/chunky:1", [{"a.bin": os.urandom(300_000)}, {"b.txt": b"b" * 50_000}])
    target = registry.repo() + ":z"
    engine.tag("local/chunky:1", target)
    result = engine.push(target, compression="zstd", chunk_size=64 << 10)
    raw = Engine(tmp_path / "x").manifest_inspect(target, raw=True)
    assert sha256_digest(raw) == result.digest
    manifest = json.loads(raw)
    assert manifest["mediaType"] == mt.OCI_MANIFEST
    assert {l["mediaType"] for l in manifest["layers"]} == {mt.OCI_LAYER_ZSTD}
    back = Engine(tmp_path / "back").pull(target)
    assert back.image_id == engine.resolve("local/chunky:1")


def test_push_unknown_image_and_digest_reference(engine, registry):
    with pytest.raises(NotFound, match="does not exist locally"):
        engine.push(registry.repo() + ":nope")
    with pytest.raises(Exception, match="digest"):
        engine.push(registry.repo() + "@sha256:" + "a" * 64)


def test_pull_missing_tag_and_repository_say_what_to_do(engine, small_image, registry):
    repo = registry.repo()
    _push(engine, "local/small:1", repo + ":1")
    with pytest.raises(RegistryError, match="manifest unknown.*strata tags"):
        engine.pull(repo + ":nope")
    with pytest.raises(RegistryError, match="not found|unknown"):
        engine.pull(registry.repo("missing") + ":1")


def test_catalog_tags_and_manifest_inspect(engine, source, registry, proxy, cli):
    repo = registry.repo("browse")
    for tag in ("a", "b", "c"):
        _push(source, "local/small:1", f"{repo}:{tag}")
    assert sorted(engine.tags(repo)) == ["a", "b", "c"]
    path = repo.split("/", 1)[1]
    # registry 2.8 pages tags only when it wants to; the client follows Link either way
    assert sorted(engine.tags(f"{proxy.host}/{path}", n=1)) == ["a", "b", "c"]
    _push(source, "local/small:1", registry.repo("browse") + ":x")
    names = engine.catalog(proxy.host, n=1)  # one repository per page, through Link headers
    assert path in names and len(names) >= 2 and names == sorted(names)
    assert len(proxy.requests_to("/_catalog", "GET")) >= len(names)
    out = cli("tags", repo)
    assert sorted(out.out.split()) == ["a", "b", "c"]
    raw = cli("manifest", "inspect", "--raw", repo + ":a")
    summary = cli("manifest", "inspect", repo + ":a")
    assert raw.code == 0 and summary.code == 0
    info = json.loads(summary.out)
    assert info["Descriptor"]["digest"] == sha256_digest(raw.out.rstrip("\n").encode())
    assert len(info["Layers"]) == 2 and info["Descriptor"]["platform"] == "linux/amd64"


def test_remote_layer_indexes_match_the_local_index(engine, small_image, registry, tmp_path):
    repo = registry.repo()
    _push(engine, "local/small:1", repo + ":1")
    remote = Engine(tmp_path / "fresh").remote_layer_indexes(repo + ":1")
    local = [engine.store.layer_index(l) for l in engine.image("local/small:1").layers]
    assert [list(r.paths) for r in remote] == [list(l.paths) for l in local]
    assert not any((tmp_path / "fresh" / "blobs" / "sha256").iterdir())  # nothing was stored


def test_live_progress_view_draws_bars_on_a_terminal(source, registry, tmp_path):
    import io

    from rich.console import Console

    from cli.registry import ProgressView

    target = registry.repo() + ":1"
    _push(source, "local/small:1", target)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, color_system=None)
    with ProgressView(console) as view:
        Engine(tmp_path / "live").pull(target, progress=view)
    text = buffer.getvalue()
    assert "Pulling from" in text and "Pull complete" in text and "Status: Downloaded newer image" in text


def test_push_all_tags_of_a_repository(engine, small_image, registry, cli, tmp_path):
    repo = registry.repo("all")
    load_image(engine, "local/other:1", [{"other": b"o"}])
    engine.tag("local/small:1", repo + ":a")
    engine.tag("local/other:1", repo + ":b")
    out = cli("push", "-a", repo)
    assert out.code == 0, out
    assert [l.split(":")[0] for l in out.out.splitlines() if ": digest: " in l] == ["a", "b"]
    assert sorted(engine.tags(repo)) == ["a", "b"]
    pulled = cli("pull", "-q", "--platform", "linux/amd64", repo + ":b")
    assert pulled.out == f"{repo}:b\n"
