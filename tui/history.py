"""Remembered inputs (pulled references) kept in the user's state directory."""

from __future__ import annotations

import json
from pathlib import Path

import platformdirs

LIMIT = 50


def history_file(name: str) -> Path:
    return Path(platformdirs.user_state_dir("strata", appauthor=False)) / f"{name}-history.json"


def read_history(name: str) -> list[str]:
    """Newest first; an unreadable file is an empty history."""
    try:
        items = json.loads(history_file(name).read_text())
    except (OSError, ValueError):
        return []
    return [i for i in items if isinstance(i, str)][:LIMIT] if isinstance(items, list) else []


def remember(name: str, value: str) -> list[str]:
    items = [value] + [i for i in read_history(name) if i != value]
    path = history_file(name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(items[:LIMIT]))
    except OSError:
        pass  # history is a convenience
    return items
