"""Pull, push, login and the registry browser against a real docker-registry on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList, Select

from engine import Engine
from tui.screens.error import ErrorModal
from tui.screens.login import LoginDialog
from tui.screens.main import MainScreen
from tui.screens.pull import PullDialog
from tui.screens.push import PushDialog
from tui.screens.registry import RegistryScreen
from tui.testing import settle
from tui.widgets.image_list import ImageList
from tui_helpers import press

from tui_helpers import LARGE, SMALL

sys.path.insert(0, str(Path(__file__).parent.parent / "registry"))
from registry_servers import RegistryServer  # noqa: E402

WEBAPP = "sha256:6de7006a8740b698f5bc4a01c080adbd9bc7bd5eb9d97ed22a61b5b50c656069"

pytestmark = pytest.mark.peers


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    server = RegistryServer(tmp_path_factory.mktemp("tui-registry"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pushed(registry, demo_template, tmp_path_factory):
    """demo/webapp:1.0 on the registry, pushed from a copy of the demo store (a push records
    repo digests, which the shared template must not get)."""
    ref = f"{registry.host}/demo/webapp:1.0"
    store = tmp_path_factory.mktemp("push-source") / "store"
    shutil.copytree(demo_template, store)
    source = Engine(store)
    source.tag("demo/webapp:1.0", ref)
    source.push(ref)
    return ref


async def fill(pilot, widget: Input, value: str) -> None:
    widget.value = value
    widget.focus()
    await settle(pilot)


class TestPush:
    async def test_push_the_selected_tag(self, app, engine, registry):
        ref = f"{registry.host}/pushed/webapp:2"
        engine.tag("demo/webapp:1.0", ref)
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            image_list = app.screen.query_one(ImageList)
            rows = [f"{r.repository}:{r.tag}" for r in image_list.shown]
            for _ in range(rows.index(ref)):
                await pilot.press("down")
            await press(pilot, "U")
            dialog = app.screen
            assert isinstance(dialog, PushDialog)
            assert dialog.query_one("#reference", Input).value == ref
            await press(pilot, "enter")
            assert isinstance(app.screen, MainScreen)
        summary = engine.manifest_inspect(ref)
        assert len(summary["Layers"]) == 4


class TestPull:
    async def test_pull_with_per_layer_progress(self, empty_app, pushed, monkeypatch):
        seen: list[str] = []
        original = PullDialog.on_task_progress

        def record(self, message):
            seen.append(message.item)
            original(self, message)

        monkeypatch.setattr(PullDialog, "on_task_progress", record)
        async with empty_app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "P")  # from the first-run screen
            dialog = empty_app.screen
            assert isinstance(dialog, PullDialog)
            await fill(pilot, dialog.query_one("#reference", Input), pushed)
            await press(pilot, "enter")
            assert isinstance(empty_app.screen, MainScreen)
            assert [r.id for r in empty_app.screen.query_one(ImageList).shown] == [WEBAPP]
        assert len({item for item in seen if item != "total"}) >= 4  # one bar per layer
        history = Path(os.environ["XDG_STATE_HOME"]) / "strata" / "pull-history.json"
        assert json.loads(history.read_text()) == [pushed]

    async def test_list_platforms(self, app, pushed):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "P")
            dialog = app.screen
            await fill(pilot, dialog.query_one("#reference", Input), pushed)
            await press(pilot, "ctrl+l")
            options = [value for _, value in dialog.query_one("#platform", Select)._options]
            assert "linux/amd64" in options

    async def test_a_missing_image_is_an_error(self, app, registry):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "P")
            await fill(pilot, app.screen.query_one("#reference", Input), f"{registry.host}/no/such:image")
            await press(pilot, "enter")
            assert isinstance(app.screen, ErrorModal)
            await press(pilot, "escape")
            assert isinstance(app.screen, PullDialog) and not app.screen.running


class TestLogin:
    async def test_login_stores_credentials(self, app, registry):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "L")
            dialog = app.screen
            assert isinstance(dialog, LoginDialog)
            dialog.query_one("#registry", Input).value = registry.host
            dialog.query_one("#username", Input).value = "alice"
            await fill(pilot, dialog.query_one("#password", Input), "secret")
            await press(pilot, "enter")
            assert isinstance(app.screen, MainScreen)
        config = json.loads((Path(os.environ["DOCKER_CONFIG"]) / "config.json").read_text())
        assert registry.host in config["auths"]


class TestRegistryBrowser:
    async def test_catalog_tags_inspect_then_pull(self, app, pushed, registry):
        async with app.run_test(size=LARGE) as pilot:
            await settle(pilot)
            await press(pilot, "R")
            screen = app.screen
            assert isinstance(screen, RegistryScreen)
            await fill(pilot, screen.query_one("#registry", Input), registry.host)
            await press(pilot, "enter")
            repos = screen.query_one("#repositories", OptionList)
            names = [str(repos.get_option_at_index(i).prompt) for i in range(repos.option_count)]
            assert "demo/webapp" in names
            repos.highlighted = names.index("demo/webapp")
            await press(pilot, "enter")
            tags = screen.query_one("#tags", OptionList)
            assert str(tags.get_option_at_index(0).prompt) == "1.0"
            tags.highlighted = 0
            await press(pilot, "enter")
            remote = screen.query_one("#remote")
            assert {c.data.path for c in remote.root.children} >= {"remote.Descriptor", "remote.Layers"}
            await press(pilot, "p")
            assert isinstance(app.screen, PullDialog)
            assert app.screen.query_one("#reference", Input).value == pushed
