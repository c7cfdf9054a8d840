"""TUI fixtures: the app on a throwaway store holding the demo images, a fixed clock, a
steady cursor and a fixed terminal size, so Pilot tests and snapshots never drift."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine import Engine
from engine.demo import create_demo_images
from tui.app import StrataApp
from tui.testing import frozen_clock, steady_cursor


STORE_LABEL = "~/.local/share/strata"


@pytest.fixture(autouse=True)
def steady_ui(isolated_env, monkeypatch):
    """Frozen clock, no cursor blink, and the user's state dir (pull history) kept out."""
    monkeypatch.setenv("XDG_STATE_HOME", str(isolated_env / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(isolated_env / "config"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    with frozen_clock(), steady_cursor():
        yield


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """The demo images, made once (synthetic busybox: the same IDs on every machine)."""
    store = tmp_path_factory.mktemp("demo-template") / "store"
    create_demo_images(Engine(store), busybox=None)
    return store


@pytest.fixture
def demo_store(demo_template, tmp_path) -> Path:
    """A private copy of the demo store for one test."""
    store = tmp_path / "store"
    shutil.copytree(demo_template, store)
    return store


@pytest.fixture
def engine(demo_store) -> Engine:
    """An engine on the test's store, to check what the app did."""
    return Engine(demo_store)


def make_app(store: Path) -> StrataApp:
    """The app on *store*, without animations (they only add waiting to every key press)."""
    app = StrataApp(store, store_label=STORE_LABEL, demo_busybox=None)
    app.animation_level = "none"
    return app


@pytest.fixture
def app(demo_store) -> StrataApp:
    return make_app(demo_store)


@pytest.fixture
def empty_app(tmp_path) -> StrataApp:
    return make_app(tmp_path / "empty-store")


@pytest.fixture
def copied(app, monkeypatch) -> list[str]:
    """What the app copied to the clipboard."""
    clips: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", clips.append)
    return clips
