"""An Input for file system paths that completes names as you type (→ accepts)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from textual.suggester import Suggester
from textual.widgets import Input


def _complete(value: str) -> str | None:
    if not value:
        return None
    expanded = os.path.expanduser(value)
    head, _, stem = expanded.rpartition("/")
    directory = Path(head or ("/" if expanded.startswith("/") else "."))
    try:
        names = sorted(n for n in os.listdir(directory) if n.startswith(stem) and n != stem)
    except OSError:
        return None
    if not stem:
        names = [n for n in names if not n.startswith(".")]
    if not names:
        return None
    name = names[0]
    suffix = "/" if (directory / name).is_dir() else ""
    return value + name[len(stem):] + suffix


class PathSuggester(Suggester):
    """Suggests the first directory entry that completes the last path component."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(_complete, value)


class PathInput(Input):
    """A path with completion; the value is expanded (``~``) by :meth:`path`."""

    def __init__(self, value: str = "", **kwargs) -> None:
        kwargs.setdefault("placeholder", "path")
        super().__init__(value, suggester=PathSuggester(), **kwargs)

    @property
    def path(self) -> Path | None:
        text = self.value.strip()
        return Path(text).expanduser() if text else None
