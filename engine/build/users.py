"""Resolve ``user[:group]`` against the image's /etc/passwd and /etc/group.

Like runc and BuildKit: numbers are taken as they are; names are looked up in
the image (never on the host); a user's supplementary groups come from
/etc/group; an unknown name is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from engine.errors import NotFound

ReadFile = Callable[[str], bytes | None]  # reads a path of the image's filesystem


@dataclass
class User:
    uid: int
    gid: int
    home: str = "/"
    groups: list[int] = field(default_factory=list)


def _rows(data: bytes | None, width: int) -> list[list[str]]:
    if not data:
        return []
    rows = []
    for line in data.decode("utf-8", "replace").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(":")
        if len(parts) >= width:
            rows.append(parts)
    return rows


def resolve_user(spec: str, read: ReadFile) -> User:
    """The uid, gid, home and groups of *spec* (``""`` means root)."""
    user, _, group = (spec or "root").partition(":")
    passwd = _rows(read("etc/passwd"), 7)
    groups = _rows(read("etc/group"), 4)
    entry = None
    if user.isdigit():
        uid = int(user)
        entry = next((row for row in passwd if row[2] == user), None)
        gid = int(entry[3]) if entry and entry[3].isdigit() else 0
    else:
        entry = next((row for row in passwd if row[0] == user), None)
        if entry is None:
            if user == "root":
                return User(0, 0, "/root", [])
            raise NotFound(f"unable to find user {user}: no matching entries in passwd file")
        uid, gid = int(entry[2]), int(entry[3])
    home = entry[5] if entry else ("/root" if uid == 0 else "/")
    if group:
        if group.isdigit():
            gid = int(group)
        else:
            row = next((row for row in groups if row[0] == group), None)
            if row is None:
                raise NotFound(f"unable to find group {group}: no matching entries in group file")
            gid = int(row[2])
        extra: list[int] = []
    else:
        name = entry[0] if entry else None
        extra = [int(row[2]) for row in groups
                 if name and name in row[3].split(",") and row[2].isdigit() and int(row[2]) != gid]
    return User(uid, gid, home, [gid, *extra])


def resolve_chown(spec: str, read: ReadFile) -> tuple[int, int]:
    """``--chown=user[:group]``; without a group the gid is the uid, as Docker documents."""
    user, sep, group = spec.partition(":")
    uid = int(user) if user.isdigit() else resolve_user(user, read).uid
    if not sep or not group:
        return uid, uid
    if group.isdigit():
        return uid, int(group)
    return uid, resolve_user(f"{uid}:{group}", read).gid


__all__ = ["User", "resolve_chown", "resolve_user"]
