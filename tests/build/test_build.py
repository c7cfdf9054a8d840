"""Builds end to end: multi-stage, cache, .dockerignore, ADD URL, layers, errors, CLI."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
import time
from pathlib import Path

import pytest

from build_helpers import flat_files, flat_read, layer_members, write
from engine.build import BuildError
from engine.dockerfile import DockerfileParseError
from engine.errors import Cancelled, NotFound

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


# -- multi-stage -----------------------------------------------------------------------


MULTI = """FROM busybox:test AS base
RUN echo base > /base

FROM base AS build
RUN mkdir -p /out && echo built > /out/app && chown 1000:50 /out/app

FROM busybox:test AS broken
RUN echo this stage is never needed && exit 7

FROM busybox:test AS final
COPY --from=build /out/app /usr/bin/app
COPY --from=0 /base /from-index
RUN cat /usr/bin/app
"""


def test_multistage_builds_only_needed_stages(engine, base, ctx, log):
    write(ctx, {"Dockerfile": MULTI})
    result = engine.build(ctx, tags=["multi:1"], progress=log)
    files = flat_files(engine, result.image_id)
    assert flat_read(engine, result.image_id, "usr/bin/app") == b"built\n"
    assert (files["usr/bin/app"].uid, files["usr/bin/app"].gid) == (1000, 50)
    assert flat_read(engine, result.image_id, "from-index") == b"base\n"
    assert "base" not in files and "out" not in files
    assert "never needed" not in log.text
    assert "[final 2/4] COPY --from=build /out/app /usr/bin/app" in log.text
    assert result.tags == ["docker.io/library/multi:1"]


def test_target_stage(engine, base, ctx):
    write(ctx, {"Dockerfile": MULTI})
    image_id = engine.build(ctx, target="build").image_id
    files = flat_files(engine, image_id)
    assert "out/app" in files and "base" in files
    with pytest.raises(NotFound, match='target stage "nope" could not be found'):
        engine.build(ctx, target="nope")


# -- cache -------------------------------------------------------------------------------


CACHED = """FROM busybox:test
COPY a.txt /a.txt
RUN cat /a.txt > /copy && cat /proc/sys/kernel/random/uuid > /stamp
COPY b.txt /b.txt
RUN cat /b.txt
"""


def test_rebuild_hits_cache_and_change_misses(engine, base, ctx, log):
    write(ctx, {"Dockerfile": CACHED, "a.txt": "a\n", "b.txt": "b\n"})
    first = engine.build(ctx)
    log.lines.clear()
    second = engine.build(ctx, progress=log)
    assert second.image_id == first.image_id
    assert log.text.count("CACHED") == 4
    assert [s.status for s in second.steps if s.name.startswith("[") and not s.name.startswith("[internal]")] == ["done"] + ["cached"] * 4
    write(ctx, {"b.txt": "changed\n"})
    third = engine.build(ctx)
    statuses = {s.name.split("] ", 1)[1]: s.status for s in third.steps if s.name.startswith("[") and not s.name.startswith("[internal]")}
    assert statuses["COPY a.txt /a.txt"] == "cached"
    assert statuses["RUN cat /a.txt > /copy && cat /proc/sys/kernel/random/uuid > /stamp"] == "cached"
    assert statuses["COPY b.txt /b.txt"] == "done" and statuses["RUN cat /b.txt"] == "done"
    assert flat_read(engine, third.image_id, "stamp") == flat_read(engine, first.image_id, "stamp")
    fourth = engine.build(ctx, no_cache=True)
    assert all(s.status != "cached" for s in fourth.steps)
    assert flat_read(engine, fourth.image_id, "stamp") != flat_read(engine, first.image_id, "stamp")


def test_cache_is_intermediate_images_that_prune_reclaims(engine, base, ctx):
    write(ctx, {"Dockerfile": CACHED, "a.txt": "a\n", "b.txt": "b\n"})
    engine.build(ctx, tags=["cached:1"])
    db = engine.store.meta.db
    assert db.execute("SELECT COUNT(*) FROM build_cache").fetchone()[0] == 4
    assert all(r.tags == [] for r in engine.store.meta.images() if r.intermediate)
    assert [row.repository for row in engine.images()].count("<none>") == 0
    engine.remove(["cached:1"])
    engine.prune()
    assert db.execute("SELECT COUNT(*) FROM build_cache").fetchone()[0] == 0
    assert [r.id for r in engine.store.meta.images()] == [base]


def test_source_date_epoch_is_reproducible(engine, base, ctx):
    write(ctx, {"Dockerfile": "FROM busybox:test\nCOPY a.txt /\nRUN echo x > /made\nENV X=1\n",
                "a.txt": "a\n"})
    args = {"SOURCE_DATE_EPOCH": "1700000000"}
    first = engine.build(ctx, build_args=args)
    time.sleep(1.1)
    (ctx / "a.txt").touch()
    second = engine.build(ctx, build_args=args, no_cache=True)
    assert first.image_id == second.image_id
    config = engine.store.image(first.image_id).config
    assert config["created"] == "2023-11-14T22:13:20Z"
    assert all(h["created"] == "2023-11-14T22:13:20Z" for h in config["history"][1:])
    members = layer_members(engine, first.image_id)
    assert all(m.mtime <= 1700000000 for m in members.values())


# -- layers of RUN -----------------------------------------------------------------------


def test_run_layer_whiteouts_and_opaque_dirs(engine, base, ctx):
    write(ctx, {"Dockerfile": """FROM busybox:test
RUN mkdir -p /data/old && touch /data/old/f /data/keep /gone && ln -s /data/keep /data/link
RUN rm /gone && rm -rf /data && mkdir /data && echo new > /data/fresh && echo add > /etc/added \
 && rm /etc/group && ln /etc/added /etc/hard && mkfifo /fifo && chmod 4755 /bin/busybox
"""})
    image_id = engine.build(ctx).image_id
    members = layer_members(engine, image_id, -1)
    names = list(members)
    assert ".wh.gone" in names and "etc/.wh.group" in names
    assert "data/.wh..wh..opq" in names and "data/fresh" in names
    assert "data/old" not in names and "data/.wh.old" not in names
    assert members["etc/hard"].islnk() and members["etc/hard"].linkname in ("etc/added",)
    assert members["fifo"].isfifo()
    assert members["bin/busybox"].mode == 0o4755
    assert names == sorted(names, key=lambda n: n.replace("/", "\0"))
    assert "proc" not in names and "dev" not in names
    files = flat_files(engine, image_id)
    assert "gone" not in files and "etc/group" not in files and "data/old" not in files
    assert set(p for p in files if p.startswith("data/")) == {"data/fresh"}


def test_run_failure_names_step_line_and_code(engine, base, ctx, log):
    write(ctx, {"Dockerfile": "FROM busybox:test\nRUN echo before\nRUN echo output-line && exit 3\n"})
    with pytest.raises(BuildError) as info:
        engine.build(ctx, progress=log)
    err = info.value
    assert err.line == 3 and err.exit_code_of_process == 3
    assert str(err) == ('Dockerfile:3: [3/3] RUN echo output-line && exit 3: process "/bin/sh -c echo '
                        'output-line && exit 3" did not complete successfully: exit code: 3')
    assert " 3 | >>> RUN echo output-line && exit 3" in err.detail()
    assert "output-line" in log.text
    assert "#6 ERROR: process" in log.text


def test_cancel_kills_running_step(engine, base, ctx):
    write(ctx, {"Dockerfile": "FROM busybox:test\nRUN echo started && sleep 30\n"})
    cancel = threading.Event()

    def watch(event):
        if getattr(event, "text", "").endswith("started"):
            cancel.set()

    t0 = time.monotonic()
    with pytest.raises(Cancelled):
        engine.build(ctx, progress=watch, cancel=cancel)
    assert time.monotonic() - t0 < 10
    assert list((engine.store.root / "tmp").iterdir()) == []


# -- .dockerignore ------------------------------------------------------------------------


def test_dockerignore_rules(engine, base, ctx):
    write(ctx, {
        ".dockerignore": "# comment\n*.log\n**/*.tmp\nbuild\ndocs\n!docs/keep.md\nsecret*\n",
        "Dockerfile": "FROM busybox:test\nCOPY . /ctx/\n",
        "top.log": "x", "sub/a.log": "kept", "sub/x.tmp": "x", "deep/er/y.tmp": "y",
        "build/out": "x", "src/build/x": "kept", "docs/drop.md": "x", "docs/keep.md": "kept",
        "secret.key": "x", "app.py": "kept",
    })
    files = {p[4:] for p in flat_files(engine, engine.build(ctx).image_id) if p.startswith("ctx/")}
    assert {"sub/a.log", "src/build/x", "docs/keep.md", "app.py", "Dockerfile", ".dockerignore"} <= files
    assert not files & {"top.log", "sub/x.tmp", "deep/er/y.tmp", "build/out", "docs/drop.md", "secret.key"}


def test_ignored_source_is_not_found(engine, base, ctx):
    write(ctx, {".dockerignore": "*.log\n", "Dockerfile": "FROM busybox:test\nCOPY a.log /\n", "a.log": "x"})
    with pytest.raises(BuildError, match=r'Dockerfile:2: \[2/2\] COPY a.log /: .*"/a.log": not found'):
        engine.build(ctx)


# -- ADD from a URL ------------------------------------------------------------------------


@pytest.fixture
def http_server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / "file.txt").write_bytes(b"downloaded content\n")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_add_url_with_checksum(engine, base, ctx, http_server):
    digest = "sha256:" + hashlib.sha256(b"downloaded content\n").hexdigest()
    write(ctx, {"Dockerfile": f"FROM busybox:test\nADD --checksum={digest} {http_server}/file.txt /dl/\n"
                              f"ADD {http_server}/file.txt /named.txt\n"})
    image_id = engine.build(ctx).image_id
    files = flat_files(engine, image_id)
    assert files["dl/file.txt"].mode == 0o600
    assert flat_read(engine, image_id, "named.txt") == b"downloaded content\n"
    write(ctx, {"Dockerfile": f"FROM busybox:test\nADD --checksum=sha256:{'0' * 64} {http_server}/file.txt /\n"})
    with pytest.raises(BuildError, match="Dockerfile:2: .*digest mismatch"):
        engine.build(ctx)
    write(ctx, {"Dockerfile": f"FROM busybox:test\nCOPY {http_server}/file.txt /\n"})
    with pytest.raises(BuildError, match="source can't be a URL for COPY"):
        engine.build(ctx)


# -- errors with file and line ----------------------------------------------------------------


@pytest.mark.parametrize("dockerfile, line, message", [
    ("FROM busybox:test\nRUNN echo\n", 2, "unknown instruction: RUNN (did you mean RUN?)"),
    ("FROM busybox:test\nCOPY --chmodd=644 a /\n", 2, "Unknown flag: chmodd"),
    ("FROM busybox:test\nCOPY missing.txt /\n", 2, '"/missing.txt": not found'),
    ("FROM busybox:test\nCOPY --from=nostage /x /\n", 2, 'stage or image "nostage" not found'),
    ("FROM --platform=$UNDEFINED busybox:test\n", 1, "empty platform value from expression $UNDEFINED"),
    ("FROM busybox:test\nEXPOSE 80/bogus\n", 2, "invalid proto: bogus"),
    ("FROM busybox:test\nSTOPSIGNAL NOPE\n", 2, "invalid signal: NOPE"),
    ("FROM busybox:test\nUSER ghost\nRUN true\n", 3, "unable to find user ghost"),
    ("FROM nosuchimage:1\n", 1, "image not found in the store"),
    ("FROM busybox:test AS 1bad\n", 1, "invalid name for build stage"),
    ("FROM busybox:test\nRUN --mount=type=cache,target=/x true\n", 2, "RUN --mount is not supported"),
])
def test_errors_name_file_and_line(engine, base, ctx, monkeypatch, dockerfile, line, message):
    def no_registry(ref, **kwargs):
        raise NotFound(f"manifest unknown: {ref}")

    monkeypatch.setattr(engine, "pull", no_registry, raising=False)
    write(ctx, {"Dockerfile": dockerfile})
    with pytest.raises(DockerfileParseError) as info:
        engine.build(ctx)
    err = info.value
    assert err.line == line, err
    assert message in str(err)
    assert str(err).startswith(f"Dockerfile:{line}: ")
    assert f">>> {dockerfile.splitlines()[line - 1]}" in err.detail()


def test_examples_build(engine, base, tmp_path):
    for example in sorted(EXAMPLES.iterdir()):
        if (example / "Dockerfile").is_file():
            result = engine.build(example, build_args={"BASE": "busybox:test"}, tags=[f"example/{example.name}"])
            assert engine.store.image(result.image_id).config["config"]


# -- CLI ------------------------------------------------------------------------------------


def test_cli_build_plain_and_quiet(cli, base, ctx, tmp_path):
    write(ctx, {"Dockerfile": "FROM busybox:test\nCOPY a.txt /\nRUN echo hello-from-run\n", "a.txt": "a"})
    res = cli("build", "-t", "cli:1", "--progress", "plain", "--label", "k=v", str(ctx))
    assert res.code == 0, res
    assert "#1 [internal] load build definition from Dockerfile" in res.err
    assert "[2/3] COPY a.txt /" in res.err and "hello-from-run" in res.err
    assert "writing image sha256:" in res.err and "naming to docker.io/library/cli:1 done" in res.err
    res = cli("build", "-q", "-t", "cli:1", "--label", "k=v", "--iidfile", tmp_path / "iid", str(ctx))
    assert res.code == 0 and res.err == ""
    image_id = res.out.strip()
    assert image_id.startswith("sha256:") and (tmp_path / "iid").read_text() == image_id
    res = cli("build", "--progress", "plain", "-t", "cli:1", "--label", "k=v", str(ctx))
    assert res.err.count("CACHED") == 2
    res = cli("inspect", "--format", "{{.Config.Labels}}", "cli:1")
    assert res.out.strip() == "map[k:v]"


def test_cli_stdin_dockerfile_and_tar_context(cli, base, tmp_path):
    res = cli("build", "-q", "-", stdin=b"FROM busybox:test\nRUN echo piped > /p\n")
    assert res.code == 0, res
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in (("Dockerfile", b"FROM busybox:test\nCOPY in-tar.txt /\n"), ("in-tar.txt", b"t\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    res = cli("build", "-q", "-t", "fromtar", "-", stdin=buf.getvalue())
    assert res.code == 0, res
    res = cli("build", "-", stdin=b"FROM busybox:test\nCOPY nothing /\n")
    assert res.code == 1 and "not found" in res.err


def test_cli_error_output(cli, base, ctx):
    write(ctx, {"Dockerfile": "FROM busybox:test\n\nRUN exit 4\n"})
    res = cli("build", str(ctx))
    assert res.code == 1
    assert " > [2/2] RUN exit 4:" in res.err
    assert "   3 | >>> RUN exit 4" in res.err
    assert 'ERROR: failed to solve: process "/bin/sh -c exit 4" did not complete successfully: exit code: 4' in res.err
    write(ctx, {"Dockerfile": "FROM busybox:test\nFOO bar\n"})
    res = cli("build", str(ctx))
    assert res.code == 1 and "Dockerfile:2" in res.err and ">>> FOO bar" in res.err
