"""Every Dockerfile instruction, built on a busybox base: config, history, files."""

from __future__ import annotations

import json

import pytest

from build_helpers import flat_files, flat_read, layer_members, write

HC = "buildkit.dockerfile.v0"


def config_of(engine, image_id):
    return engine.store.image(image_id).config


def created_by(engine, image_id, skip_base=True):
    history = config_of(engine, image_id)["history"]
    return [h["created_by"] for h in history if not skip_base or h.get("comment") == HC]


def test_metadata_instructions(engine, base, ctx):
    write(ctx, {"Dockerfile": """FROM busybox:test
MAINTAINER someone@example.com
ARG VERSION=1.0
ENV APP=/opt/app NAME="hello world"
ENV LEGACY value with spaces
LABEL org.example.version=$VERSION "quoted key"=v
USER app:staff
EXPOSE 80 443/udp 8000-8001
VOLUME ["/data", "/logs"]
VOLUME /cache
STOPSIGNAL SIGINT
HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD wget -q -O- localhost || exit 1
SHELL ["/bin/sh", "-ec"]
ENTRYPOINT echo entry
CMD ["--help"]
ONBUILD RUN echo triggered
"""})
    image_id = engine.build(ctx).image_id
    config = config_of(engine, image_id)
    cfg = config["config"]
    assert config["author"] == "someone@example.com"
    assert "APP=/opt/app" in cfg["Env"] and "NAME=hello world" in cfg["Env"]
    assert "LEGACY=value with spaces" in cfg["Env"]
    assert "VERSION=1.0" not in cfg["Env"]
    assert cfg["Labels"] == {"org.example.version": "1.0", "quoted key": "v"}
    assert cfg["User"] == "app:staff"
    assert cfg["ExposedPorts"] == {"443/udp": {}, "80/tcp": {}, "8000/tcp": {}, "8001/tcp": {}}
    assert cfg["Volumes"] == {"/cache": {}, "/data": {}, "/logs": {}}
    assert cfg["StopSignal"] == "SIGINT"
    assert cfg["Healthcheck"] == {"Test": ["CMD-SHELL", "wget -q -O- localhost || exit 1"],
                                  "Interval": 30 * 10**9, "Timeout": 5 * 10**9, "Retries": 3}
    assert cfg["Shell"] == ["/bin/sh", "-ec"]
    assert cfg["Entrypoint"] == ["/bin/sh", "-ec", "echo entry"]
    assert cfg["Cmd"] == ["--help"]
    assert cfg["OnBuild"] == ["RUN echo triggered"]
    assert created_by(engine, image_id) == [
        "MAINTAINER someone@example.com",
        "ARG VERSION=1.0",
        "ENV APP=/opt/app NAME=hello world",
        "ENV LEGACY=value with spaces",
        "LABEL org.example.version=1.0 quoted key=v",
        "USER app:staff",
        "EXPOSE [443/udp 80/tcp 8000/tcp 8001/tcp]",
        "VOLUME [/data /logs]",
        "VOLUME [/cache]",
        "STOPSIGNAL SIGINT",
        "HEALTHCHECK {Test:[CMD-SHELL wget -q -O- localhost || exit 1] Interval:30s Timeout:5s "
        "StartPeriod:0s StartInterval:0s Retries:3}",
        "SHELL [/bin/sh -ec]",
        'ENTRYPOINT ["/bin/sh" "-ec" "echo entry"]',
        'CMD ["--help"]',
    ]
    history = config["history"]
    assert all(h.get("empty_layer") for h in history if h.get("comment") == HC)
    # the config is encoded as BuildKit does: compact, struct order
    raw = engine.store.image(image_id).config_bytes.decode()
    assert raw.index('"architecture"') < raw.index('"config"') < raw.index('"rootfs"') < raw.index('"history"')


def test_cmd_and_entrypoint_forms(engine, base, ctx):
    write(ctx, {"Dockerfile": "FROM busybox:test\nCMD echo $HOME\n"})
    cfg = config_of(engine, engine.build(ctx).image_id)["config"]
    assert cfg["Cmd"] == ["/bin/sh", "-c", "echo $HOME"] and cfg["ArgsEscaped"] is True
    write(ctx, {"Dockerfile": "FROM busybox:test\nENTRYPOINT [\"top\", \"-b\"]\n"})
    cfg = config_of(engine, engine.build(ctx).image_id)["config"]
    assert cfg["Entrypoint"] == ["top", "-b"]
    assert "Cmd" not in cfg  # ENTRYPOINT resets the base's CMD unless CMD is set in the stage


def test_workdir_run_user_and_env(engine, base, ctx):
    write(ctx, {"Dockerfile": """FROM busybox:test
ENV GREETING=hi
WORKDIR /srv/app
WORKDIR sub
RUN pwd > /pwd && echo "$GREETING $HOME" > /env
USER app
RUN id -u > /tmp/uid && touch /home/app/mine && echo $HOME > /tmp/home
"""})
    image_id = engine.build(ctx).image_id
    cfg = config_of(engine, image_id)["config"]
    assert cfg["WorkingDir"] == "/srv/app/sub"
    assert flat_read(engine, image_id, "pwd") == b"/srv/app/sub\n"
    assert flat_read(engine, image_id, "env") == b"hi /root\n"
    assert flat_read(engine, image_id, "tmp/uid") == b"1000\n"
    assert flat_read(engine, image_id, "tmp/home") == b"/home/app\n"
    files = flat_files(engine, image_id)
    assert files["home/app/mine"].uid == 1000
    assert files["srv/app/sub"].isdir()
    assert created_by(engine, image_id)[:3] == ["ENV GREETING=hi", "WORKDIR /srv/app", "WORKDIR /srv/app/sub"]
    assert created_by(engine, image_id)[3] == ('RUN /bin/sh -c pwd > /pwd && echo "$GREETING $HOME" > /env'
                                                " # buildkit")


def test_run_exec_form_and_heredocs(engine, base, ctx):
    write(ctx, {"Dockerfile": """FROM busybox:test
ARG WHO=world
RUN ["sh", "-c", "echo exec > /exec"]
RUN <<EOF
echo one > /one
echo two >> /one
EOF
RUN <<EOT
#!/bin/sh
echo "script $0" > /script
EOT
RUN cat > /greeting <<-EOF && echo done
	hello $WHO
	EOF
COPY <<A <<'B' /docs/
value of WHO is $WHO
A
literal $WHO
B
COPY <<EOF /single.txt
single
EOF
"""})
    image_id = engine.build(ctx).image_id
    assert flat_read(engine, image_id, "exec") == b"exec\n"
    assert flat_read(engine, image_id, "one") == b"one\ntwo\n"
    assert flat_read(engine, image_id, "script") == b"script /dev/pipes/EOT\n"
    assert flat_read(engine, image_id, "greeting") == b"hello world\n"
    assert flat_read(engine, image_id, "docs/A") == b"value of WHO is world\n"
    assert flat_read(engine, image_id, "docs/B") == b"literal $WHO\n"
    assert flat_read(engine, image_id, "single.txt") == b"single\n"
    history = created_by(engine, image_id)
    assert history[1] == 'RUN |1 WHO=world sh -c echo exec > /exec # buildkit'
    assert history[2] == "RUN |1 WHO=world /bin/sh -c echo one > /one\necho two >> /one\n # buildkit"
    assert history[5] == "COPY <<A <<B /docs/ # buildkit"


def test_copy_rules(engine, base, ctx):
    write(ctx, {
        "Dockerfile": """FROM busybox:test
COPY a.txt /file-as-name
COPY a.txt b.txt /multi/
COPY dir /contents/
COPY dir/ /etc
COPY *.txt /glob/
COPY --chown=app:staff --chmod=600 a.txt /owned/
COPY --chown=1234 dir /numeric
COPY link.txt /followed
COPY nomatch*.zz /empty-wildcard/
WORKDIR /w
COPY a.txt .
COPY a.txt rel/
""",
        "a.txt": "A\n", "b.txt": "B\n", "dir/x.conf": "x\n", "dir/sub/y.conf": "y\n",
    })
    (ctx / "link.txt").symlink_to("a.txt")
    (ctx / "dir/sub/y.conf").chmod(0o640)
    image_id = engine.build(ctx).image_id
    files = flat_files(engine, image_id)
    assert files["file-as-name"].isfile()
    assert files["multi/a.txt"].isfile() and files["multi/b.txt"].isfile()
    assert files["contents/x.conf"].isfile() and files["contents/sub/y.conf"].mode == 0o640
    assert "contents/dir" not in files
    assert files["etc/x.conf"].isfile() and files["etc/passwd"].isfile()
    assert {p for p in files if p.startswith("glob/")} == {"glob/a.txt", "glob/b.txt", "glob/link.txt"}
    owned = files["owned/a.txt"]
    assert (owned.uid, owned.gid, owned.mode) == (1000, 50, 0o600)
    assert (files["numeric/x.conf"].uid, files["numeric/x.conf"].gid) == (1234, 1234)
    assert files["followed"].isfile() and flat_read(engine, image_id, "followed") == b"A\n"
    assert files["w/a.txt"].isfile() and files["w/rel/a.txt"].isfile()
    assert all(files[p].uid == 0 for p in ("file-as-name", "contents/x.conf", "w/a.txt"))
    assert "empty-wildcard" not in files
    assert "COPY --chown=app:staff --chmod=600 a.txt /owned/ # buildkit" in created_by(engine, image_id)


def test_add_local_archives(engine, base, ctx, tmp_path):
    import io
    import tarfile

    def archive(mode: str) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode=mode) as tar:
            data = b"from the archive\n"
            info = tarfile.TarInfo("pkg/readme.txt")
            info.size, info.uid, info.mode = len(data), 42, 0o640
            tar.addfile(info, io.BytesIO(data))
        return buf.getvalue()

    write(ctx, {"plain.tar": archive("w"), "pkg.tar.gz": archive("w:gz"), "pkg.tar.bz2": archive("w:bz2"),
                "pkg.tar.xz": archive("w:xz"), "not-an-archive.gz": b"\x1f\x8bjunk",
                "Dockerfile": """FROM busybox:test
ADD plain.tar /plain/
ADD pkg.tar.gz /gz
ADD pkg.tar.bz2 /bz2/
ADD pkg.tar.xz /xz/
ADD not-an-archive.gz /raw/
COPY pkg.tar.gz /copied/
"""})
    image_id = engine.build(ctx).image_id
    files = flat_files(engine, image_id)
    for where in ("plain", "gz", "bz2", "xz"):
        member = files[f"{where}/pkg/readme.txt"]
        assert member.uid == 42 and member.mode == 0o640
    assert files["raw/not-an-archive.gz"].isfile()
    assert files["copied/pkg.tar.gz"].isfile()


def test_onbuild_triggers_run_in_child(engine, base, ctx, tmp_path):
    write(ctx, {"Dockerfile": "FROM busybox:test\nONBUILD RUN echo triggered > /trig\n"})
    engine.build(ctx, tags=["parent:1"])
    child = tmp_path / "child"
    write(child, {"Dockerfile": "FROM parent:1\nRUN cat /trig\n"})
    image_id = engine.build(child).image_id
    assert flat_read(engine, image_id, "trig") == b"triggered\n"
    assert "OnBuild" not in config_of(engine, image_id)["config"]
    assert created_by(engine, image_id)[0] == "RUN /bin/sh -c echo triggered > /trig # buildkit"


def test_build_args_and_meta_args(engine, base, ctx):
    write(ctx, {"Dockerfile": """ARG BASE=busybox:test
ARG UNUSED_GLOBAL=g
FROM $BASE
ARG BASE
ARG V=default
ARG TARGETARCH
ENV FROM_ARG=$V
RUN echo "$V $BASE $TARGETARCH ${HTTP_PROXY:-noproxy}" > /args
"""})
    result = engine.build(ctx, build_args={"V": "given", "HTTP_PROXY": "http://proxy.invalid:3128"})
    assert flat_read(engine, result.image_id, "args").decode().split()[:2] == ["given", "busybox:test"]
    assert flat_read(engine, result.image_id, "args").decode().split()[3] == "http://proxy.invalid:3128"
    history = created_by(engine, result.image_id)
    run = [h for h in history if h.startswith("RUN")][0]
    assert run.startswith("RUN |3 BASE=busybox:test V=given TARGETARCH=")
    assert "HTTP_PROXY=" not in run and "proxy.invalid" not in json.dumps(config_of(engine, result.image_id))
    assert "FROM_ARG=given" in config_of(engine, result.image_id)["config"]["Env"]


def test_scratch_and_labels_from_cli(engine, ctx):
    write(ctx, {"Dockerfile": "FROM scratch\nCOPY hello /\nCMD [\"/hello\"]\n", "hello": "hi\n"})
    result = engine.build(ctx, tags=["scratchy"], labels={"built.by": "strata"})
    image = engine.store.image(result.image_id)
    assert len(image.layers) == 1
    assert image.config["config"]["Labels"] == {"built.by": "strata"}
    assert set(layer_members(engine, result.image_id)) == {"hello"}
    assert image.config["config"]["Env"] == [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]


@pytest.mark.parametrize("sandbox", ["unshare", "chroot"])
def test_other_sandboxes(engine, base, ctx, monkeypatch, sandbox):
    import os
    import shutil

    if sandbox == "chroot" and os.geteuid() != 0:
        pytest.skip("the chroot sandbox needs root")
    if sandbox == "unshare" and not shutil.which("unshare"):
        pytest.skip("needs util-linux unshare")
    monkeypatch.setenv("STRATA_BUILD_SANDBOX", sandbox)
    write(ctx, {"Dockerfile": """FROM busybox:test
WORKDIR /work
RUN echo $$ > /pid && ls /proc/self/ > /dev/null && pwd > where && echo ok > /dev/null
USER app
RUN id -u > /tmp/uid
"""})
    image_id = engine.build(ctx).image_id
    assert flat_read(engine, image_id, "pid") == b"1\n" or sandbox == "chroot"
    assert flat_read(engine, image_id, "work/where") == b"/work\n"
    assert flat_read(engine, image_id, "tmp/uid") == b"1000\n"
    assert "proc/self" not in flat_files(engine, image_id)
