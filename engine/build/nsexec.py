"""In-sandbox launcher for the ``unshare`` and ``chroot`` runners.

Run as ``python -m engine.build.nsexec SPEC.json`` inside fresh namespaces
(``unshare --mount --pid --fork``) or, for the chroot runner, as root with no
namespaces yet: it then makes its own mount namespace.  It mounts ``/proc``
and a small ``/dev`` inside the rootfs, chroots, switches to the build user
and execs the command.  Nothing here returns: it execs or exits.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import sys

CLONE_NEWNS = 0x00020000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {target}")


def _setup_dev(root: str) -> None:
    dev = os.path.join(root, "dev")
    os.makedirs(dev, exist_ok=True)
    mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=65536k")
    for name in DEVICES:
        target = os.path.join(dev, name)
        open(target, "w").close()
        try:
            mount(f"/dev/{name}", target, None, MS_BIND)
        except OSError:
            os.unlink(target)
    os.makedirs(os.path.join(dev, "shm"), exist_ok=True)
    os.makedirs(os.path.join(dev, "pts"), exist_ok=True)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, os.path.join(dev, name))


def _lookup(argv0: str, env: dict[str, str]) -> str | None:
    if "/" in argv0:
        return argv0
    for directory in env.get("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(":"):
        candidate = os.path.join(directory or ".", argv0)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    with open(args[0]) as f:
        spec = json.load(f)
    root = spec["root"]
    try:
        if spec.get("own_mount_ns"):
            _check(_libc.unshare(CLONE_NEWNS), "unshare")
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        os.makedirs(os.path.join(root, "proc"), exist_ok=True)
        try:
            mount("proc", os.path.join(root, "proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        except OSError:
            mount("/proc", os.path.join(root, "proc"), None, MS_BIND | MS_REC)
        _setup_dev(root)
        for source, target in spec.get("ro_binds", []):
            path = os.path.join(root, target.lstrip("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if not os.path.lexists(path):
                open(path, "w").close()
            mount(source, path, None, MS_BIND)
            mount(None, path, None, MS_BIND | MS_RDONLY | 32 | MS_REC)  # MS_REMOUNT = 32
        os.chroot(root)
        cwd = spec.get("cwd") or "/"
        os.makedirs(cwd, exist_ok=True)
        os.chdir(cwd)
        if spec.get("hostname") and spec.get("own_uts_ns"):
            _libc.sethostname(spec["hostname"].encode(), len(spec["hostname"]))
        if os.geteuid() == 0:
            os.setgroups(spec.get("groups") or [])
            os.setgid(spec.get("gid", 0))
            os.setuid(spec.get("uid", 0))
    except OSError as exc:
        sys.stderr.write(f"strata sandbox: {exc}\n")
        os._exit(126)
    env = dict(item.split("=", 1) for item in spec["env"] if "=" in item)
    cmd = spec["argv"]
    path = _lookup(cmd[0], env)
    if path is None:
        sys.stderr.write(f'exec: "{cmd[0]}": executable file not found in $PATH\n')
        os._exit(127)
    try:
        os.execve(path, cmd, env)
    except OSError as exc:
        sys.stderr.write(f'exec {cmd[0]}: {exc.strerror}\n')
        os._exit(126 if exc.errno != 2 else 127)


if __name__ == "__main__":
    main()
