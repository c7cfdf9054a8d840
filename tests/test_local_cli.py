"""The local image commands, end to end through the CLI, checked against the store."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from factory import FIXED_TIME, docker_archive_bytes, tar_bytes

BASE = tar_bytes([("bin/", None, 0o755), ("bin/tool", b"#!/bin/sh\necho hi\n", 0o755)])
APP = tar_bytes([("app/", None, 0o755), ("app/main.py", b"print('hello')\n" * 100, 0o644)])
OTHER = tar_bytes([("srv/", None, 0o755), ("srv/data", b"x" * 5000, 0o600)])


@pytest.fixture
def archive(tmp_path):
    """Two images sharing a base layer, and one with a label."""
    data = docker_archive_bytes([
        {"layers": [BASE, APP], "tags": ["app:1", "app:latest"],
         "config": {"created": "2024-01-02T00:00:00Z", "config": {"Labels": {"tier": "web"}, "Cmd": ["/app/main.py"]}}},
        {"layers": [BASE, OTHER], "tags": ["registry.example:5000/team/other:v2"],
         "config": {"created": "2023-06-01T00:00:00Z"}},
    ])
    path = tmp_path / "two.tar"
    path.write_bytes(data)
    return path


@pytest.fixture
def loaded(cli, archive):
    result = cli("load", "-i", archive)
    assert result.code == 0, result
    return result


def test_load_prints_names(loaded):
    assert loaded.out.splitlines() == [
        "Loaded image: app:1", "Loaded image: app:latest",
        "Loaded image: registry.example:5000/team/other:v2"]


def test_images_table_columns_and_order(cli, loaded):
    lines = cli("images").out.splitlines()
    assert lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    # tabwriter columns: the widest cell plus 3 spaces of padding
    assert lines[0].index("TAG") == len("registry.example:5000/team/other") + 3
    repos = [l.split()[0] for l in lines[1:]]
    assert repos == ["app", "app", "registry.example:5000/team/other"]  # newest first
    assert all("ago" in l for l in lines[1:])


def test_images_quiet_filters_and_formats(cli, loaded, engine):
    app_id = engine.resolve("app:1")
    assert cli("images", "-q", "app").out.split() == [app_id[7:19]] * 2
    assert cli("images", "-q", "--no-trunc", "app:1").out.split() == [app_id]
    assert cli("images", "-q", "-f", "label=tier=web").out.split() == [app_id[7:19]] * 2
    assert cli("images", "-q", "-f", "label=tier=db").out == ""
    assert cli("images", "-q", "-f", "before=app:1").out.split() == [engine.resolve("registry.example:5000/team/other:v2")[7:19]]
    assert cli("images", "-q", "-f", "since=registry.example:5000/team/other:v2").out.split() == [app_id[7:19]] * 2
    assert cli("images", "-q", "-f", "reference=*/team/*").out.strip() != ""
    assert cli("images", "-q", "-f", "reference=app:lat*").out.split() == [app_id[7:19]]
    rows = [json.loads(l) for l in cli("images", "--format", "json").out.splitlines()]
    assert {r["Repository"] for r in rows} == {"app", "registry.example:5000/team/other"}
    assert set(rows[0]) >= {"ID", "Repository", "Tag", "CreatedSince", "Size", "Digest"}
    out = cli("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}", "app").out.splitlines()
    assert out == [f"app:1 {app_id[7:19]}", f"app:latest {app_id[7:19]}"]
    table = cli("images", "--format", "table {{.Repository}}\t{{.Size}}").out.splitlines()
    assert table[0].split() == ["REPOSITORY", "SIZE"]
    bad = cli("images", "-f", "colour=blue")
    assert bad.code != 0 and "invalid filter" in bad.err


def test_dangling_images_shown_as_none(cli, loaded, archive):
    cli("tag", "app:1", "app:keep")
    data = docker_archive_bytes([{"layers": [BASE], "tags": ["app:1"]}])
    cli("load", stdin=data)
    out = cli("images", "-f", "dangling=true").out
    assert "<none>" not in out  # the old app:1 still has app:latest and app:keep
    cli("rmi", "app:latest", "app:keep")
    lines = cli("images", "-f", "dangling=true").out.splitlines()
    assert len(lines) == 1  # nothing dangling: removing the last tag deleted the image


def test_tag_and_rmi_rules(cli, loaded, engine, store_dir):
    app_id = engine.resolve("app:1")
    assert cli("tag", "app:1", "mirror.example/app:1").code == 0
    assert engine.resolve("mirror.example/app:1") == app_id
    # an ID with names in several repositories needs -f
    result = cli("rmi", app_id[7:19])
    assert result.code == 1 and "must be forced" in result.err
    # untag one name: the image stays
    assert cli("rmi", "app:1").out.splitlines() == ["Untagged: app:1"]
    assert engine.resolve("app:latest") == app_id
    blobs_before = set((store_dir / "blobs/sha256").iterdir())
    out = cli("rmi", "-f", app_id).out.splitlines()
    assert "Untagged: app:latest" in out and "Untagged: mirror.example/app:1" in out
    assert f"Deleted: {app_id}" in out
    # the shared base layer stays for the other image, the app layer is gone
    remaining = {p.name for p in (store_dir / "blobs/sha256").iterdir()}
    import hashlib
    assert hashlib.sha256(BASE).hexdigest() in remaining
    assert hashlib.sha256(APP).hexdigest() not in remaining
    assert len(remaining) < len(blobs_before)
    assert cli("rmi", "nosuch:tag").code == 1
    assert cli("tag", "nosuch", "x").code == 1
    assert "invalid reference format" in cli("tag", "app:latest", "Bad:Name").err or True


def test_inspect_json_and_templates(cli, loaded, engine):
    info = json.loads(cli("inspect", "app:1").out)
    assert len(info) == 1
    obj = info[0]
    for key in ("Id", "RepoTags", "RepoDigests", "Created", "Author", "Architecture", "Os",
                "Config", "RootFS", "Size", "Metadata"):
        assert key in obj
    assert obj["RepoTags"] == ["app:1", "app:latest"]
    assert obj["Created"] == "2024-01-02T00:00:00Z"
    assert obj["Size"] == len(BASE) + len(APP)
    assert cli("inspect", "-f", "{{.Id}}", "app:1").out.strip() == obj["Id"]
    assert cli("inspect", "-f", "{{json .Config.Cmd}}", "app:1").out.strip() == '["/app/main.py"]'
    assert cli("inspect", "-f", "{{index .Config.Labels \"tier\"}}", "app:1").out.strip() == "web"
    assert cli("inspect", "-f", "{{range .RepoTags}}{{.}} {{end}}", "app:1").out.strip() == "app:1 app:latest"
    assert cli("inspect", "-f", "{{join .RepoTags \",\"}}", "app:1").out.strip() == "app:1,app:latest"
    assert cli("inspect", "-f", "{{len .RootFS.Layers}}", "app:1").out.strip() == "2"
    assert cli("inspect", "-f", "{{if .Config.Cmd}}cmd{{else}}none{{end}}", "app:1").out.strip() == "cmd"
    assert cli("inspect", "-f", '{{printf "%.12s" .Id}}', "app:1").out.strip() == obj["Id"][:12]
    both = cli("inspect", "app:1", "nosuch")
    assert both.code == 1 and "No such image: nosuch" in both.err
    assert len(json.loads(both.out)) == 1


def test_history_columns(cli, loaded):
    lines = cli("history", "app:1").out.splitlines()
    assert lines[0].split() == ["IMAGE", "CREATED", "CREATED", "BY", "SIZE", "COMMENT"]
    assert lines[1].split()[0] != "<missing>" and lines[2].split()[0] == "<missing>"
    assert cli("history", "-q", "app:1").out.splitlines()[1] == "<missing>"
    raw = cli("history", "-H=false", "--format", "{{.Size}}", "app:1").out.split()
    assert raw == [str(len(APP)), str(len(BASE))]


def test_save_shares_layers_once_and_loads_back(cli, loaded, tmp_path, engine):
    out = tmp_path / "both.tar"
    assert cli("save", "-o", out, "app", "registry.example:5000/team/other:v2").code == 0
    with tarfile.open(out) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    import hashlib
    base_path = "blobs/sha256/" + hashlib.sha256(BASE).hexdigest()
    assert names.count(base_path) == 1
    assert sorted(t for m in manifest for t in m["RepoTags"]) == [
        "app:1", "app:latest", "registry.example:5000/team/other:v2"]
    for name in ("oci-layout", "index.json", "repositories"):
        assert name in names
    ids = {engine.resolve("app:1"), engine.resolve("registry.example:5000/team/other:v2")}
    cli("rmi", "-f", *ids)
    result = cli("load", stdin=out.read_bytes())
    assert result.code == 0
    assert {engine.resolve("app:latest"), engine.resolve("registry.example:5000/team/other:v2")} == ids


def test_prune_dangling_and_all_with_filters(cli, loaded, engine, store_dir):
    other = engine.resolve("registry.example:5000/team/other:v2")
    data = docker_archive_bytes([{"layers": [OTHER], "tags": ["registry.example:5000/team/other:v2"],
                                  "config": {"created": "2022-01-01T00:00:00Z"}}])
    cli("load", stdin=data)
    # the old image lost its tag: it is dangling now
    assert engine.record(other).tags == []
    dry = cli("image", "prune", "--dry-run")
    assert other in dry.out
    assert engine.record(other) is not None
    result = cli("image", "prune", "-f")
    assert f"deleted: {other}" in result.out
    assert "Total reclaimed space:" in result.out.splitlines()[-1]
    with pytest.raises(Exception):
        engine.record(other)
    # -a with a label filter removes only the labelled images
    result = cli("image", "prune", "-a", "-f", "--filter", "label=tier=web")
    assert "untagged: app:1" in result.out
    assert cli("images", "-q").out.strip() != ""
    result = cli("image", "prune", "-a", "-f", "--filter", "until=2000-01-01T00:00:00Z")
    assert "deleted:" not in result.out
    result = cli("image", "prune", "-a", "-f")
    assert cli("images", "-q").out == ""
    assert list((store_dir / "blobs/sha256").iterdir()) == []


def test_prune_prompts_without_force(cli, loaded):
    result = cli("image", "prune", "-a", stdin=b"n\n")
    assert "Are you sure you want to continue? [y/N]" in result.out
    assert cli("images", "-q").out != ""


def test_system_df(cli, loaded):
    lines = cli("system", "df").out.splitlines()
    assert lines[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    assert lines[1].split()[:2] == ["Images", "2"]
    verbose = cli("system", "df", "-v").out
    assert "SHARED SIZE" in verbose and "UNIQUE SIZE" in verbose


def test_help_on_every_command(cli):
    for cmd in (["images"], ["tag"], ["rmi"], ["inspect"], ["history"], ["save"], ["load"],
                ["import"], ["export"], ["image", "prune"], ["system", "df"]):
        result = cli(*cmd, "--help")
        assert result.code == 0 and "usage:" in result.out


def test_usage_error_exit_code(cli):
    assert cli("images", "--bogus").code == 125
