"""Run one RUN command in a sandbox over a rootfs directory.

Runners, in order of preference:

* ``bwrap`` (bubblewrap): new PID/IPC/UTS namespaces, the rootfs bound at
  ``/``, a fresh ``/proc`` and a minimal ``/dev``; rootless through a user
  namespace when Strata is not root.  As root it keeps real root (so ``chown``
  inside the build works) and is used for root steps only, since it cannot
  switch to another uid without a user namespace.
* ``unshare`` (util-linux) + :mod:`engine.build.nsexec`: mount/PID/UTS/IPC
  namespaces (a user namespace with ``-r`` when not root), then mounts,
  chroot, setuid and exec.
* ``chroot``: root only; :mod:`engine.build.nsexec` makes a private mount
  namespace itself, then chroots.

``STRATA_BUILD_SANDBOX=bwrap|unshare|chroot`` forces one.  No runner gives
the command access to the host filesystem: it only sees the rootfs.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from engine.errors import Cancelled, Unsupported

RUNNERS = ("bwrap", "unshare", "chroot")
STUBS = ("proc", "dev")
HOSTNAME = "buildkitsandbox"
IS_ROOT = os.geteuid() == 0
_NSEXEC = str(Path(__file__).with_name("nsexec.py"))


@dataclass
class RunSpec:
    """What to run and how."""

    root: Path
    argv: list[str]
    env: list[str]
    cwd: str = "/"
    uid: int = 0
    gid: int = 0
    groups: list[int] = field(default_factory=list)
    network: str = "default"
    ro_binds: list[tuple[str, str]] = field(default_factory=list)


def choose_runner(spec: RunSpec) -> str:
    """The runner to use for *spec* on this machine."""
    forced = os.environ.get("STRATA_BUILD_SANDBOX", "").strip()
    if forced:
        if forced not in RUNNERS:
            raise Unsupported(f"STRATA_BUILD_SANDBOX={forced!r}: use one of {', '.join(RUNNERS)}")
        if forced == "chroot" and not IS_ROOT:
            raise Unsupported("the chroot sandbox needs root")
        if forced != "chroot" and not shutil.which(forced):
            raise Unsupported(f"STRATA_BUILD_SANDBOX={forced}: {forced} is not installed")
        return forced
    if shutil.which("bwrap") and (not IS_ROOT or spec.uid == 0):
        return "bwrap"
    if shutil.which("unshare"):
        return "unshare"
    if IS_ROOT:
        return "chroot"
    raise Unsupported("RUN needs a sandbox: install bubblewrap (apt install bubblewrap) "
                      "or util-linux's unshare")


def _bwrap_argv(spec: RunSpec) -> list[str]:
    argv = ["bwrap", "--die-with-parent", "--unshare-ipc", "--unshare-pid", "--unshare-uts",
            "--hostname", HOSTNAME]
    if spec.network == "none":
        argv.append("--unshare-net")
    if not IS_ROOT:
        argv += ["--unshare-user", "--uid", str(spec.uid), "--gid", str(spec.gid)]
    argv += ["--bind", str(spec.root), "/", "--proc", "/proc", "--dev", "/dev"]
    for source, target in spec.ro_binds:
        argv += ["--ro-bind", source, target]
    argv += ["--chdir", spec.cwd or "/", "--clearenv"]
    for item in spec.env:
        key, _, value = item.partition("=")
        argv += ["--setenv", key, value]
    return argv + ["--", *spec.argv]


def _helper_spec(spec: RunSpec, own_mount_ns: bool, own_uts: bool) -> dict:
    return {"root": str(spec.root), "argv": spec.argv, "env": spec.env, "cwd": spec.cwd,
            "uid": spec.uid, "gid": spec.gid, "groups": spec.groups,
            "ro_binds": spec.ro_binds, "own_mount_ns": own_mount_ns,
            "own_uts_ns": own_uts, "hostname": HOSTNAME}


def command(runner: str, spec: RunSpec, spec_file: Path) -> list[str]:
    """The host command line that runs *spec* with *runner*."""
    if runner == "bwrap":
        return _bwrap_argv(spec)
    helper = [sys.executable, "-S", "-E", _NSEXEC, str(spec_file)]
    if runner == "unshare":
        spec_file.write_text(json.dumps(_helper_spec(spec, False, True)))
        argv = ["unshare", "--mount", "--pid", "--fork", "--kill-child", "--uts", "--ipc"]
        if spec.network == "none":
            argv.append("--net")
        if not IS_ROOT:
            argv.append("--map-root-user")
        return argv + ["--", *helper]
    spec_file.write_text(json.dumps(_helper_spec(spec, True, False)))
    return helper


def _make_stubs(root: Path) -> list[Path]:
    made = []
    for name in STUBS:
        path = root / name
        if not os.path.lexists(path):
            path.mkdir(mode=0o755)
            made.append(path)
    return made


def run(spec: RunSpec, on_line: Callable[[str], None], cancel: threading.Event | None = None,
        tmp_dir: Path | None = None) -> int:
    """Run *spec*, streaming its output lines to *on_line*; returns the exit code.

    Raises :class:`Cancelled` (after killing the sandbox) when *cancel* is set.
    """
    runner = choose_runner(spec)
    stubs = _make_stubs(spec.root)
    fd, name = tempfile.mkstemp(prefix="run-", suffix=".json", dir=tmp_dir)
    os.close(fd)
    spec_file = Path(name)
    try:
        argv = command(runner, spec, spec_file)
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LANG": "C.UTF-8"}
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, start_new_session=True, env=env)
        except OSError as exc:
            raise Unsupported(f"starting the {runner} sandbox: {exc.strerror or exc}") from exc
        return _pump(proc, on_line, cancel)
    finally:
        spec_file.unlink(missing_ok=True)
        for stub in stubs:
            try:
                stub.rmdir()
            except OSError:
                pass


def _pump(proc: subprocess.Popen, on_line: Callable[[str], None],
          cancel: threading.Event | None) -> int:
    lines: queue.Queue[str | None] = queue.Queue()

    def reader() -> None:
        pending = b""
        assert proc.stdout is not None
        for chunk in iter(lambda: proc.stdout.read1(65536), b""):
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for raw in complete:
                lines.put(raw.decode("utf-8", "replace").rstrip("\r"))
        if pending:
            lines.put(pending.decode("utf-8", "replace").rstrip("\r"))
        lines.put(None)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    done = False
    while not done:
        if cancel is not None and cancel.is_set():
            _kill(proc)
            thread.join(timeout=5)
            raise Cancelled("build cancelled")
        try:
            line = lines.get(timeout=0.05)
        except queue.Empty:
            continue
        if line is None:
            done = True
        else:
            on_line(line)
    while True:
        try:
            return proc.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            if cancel is not None and cancel.is_set():
                _kill(proc)
                raise Cancelled("build cancelled") from None


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 5
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)


__all__ = ["RUNNERS", "RunSpec", "choose_runner", "command", "run"]
