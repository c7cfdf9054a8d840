"""The main screen: the image list (sort, filter, dangling, marks) and the panes it drives."""

from __future__ import annotations

from textual.widgets import DataTable, TabbedContent

from tui.screens.first_run import FirstRunScreen
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.screens.prune import PruneDialog
from tui.screens.text_modal import TextModal
from tui.testing import settle
from tui.widgets.config_pane import ConfigPane
from tui.widgets.history_pane import HistoryPane
from tui.widgets.image_list import ImageList
from tui.widgets.layers_pane import LayersPane
from tui_helpers import press, screen_text, type_text

from tui_helpers import SMALL


def names(image_list: ImageList) -> list[str]:
    return [f"{r.repository}:{r.tag}" for r in image_list.shown]


class TestImageList:
    async def test_lists_the_store_newest_first(self, app):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, MainScreen)
            image_list = app.screen.query_one(ImageList)
            assert names(image_list) == ["demo/webapp:1.0", "demo/webapp:latest", "<none>:<none>",
                                         "demo/tools:2.3"]
            text = screen_text(app)
            assert "REPOSITORY" in text and "IMAGE ID" in text and "20 months ago" in text

    async def test_filter_as_you_type_and_escape_clears(self, app):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            image_list = app.screen.query_one(ImageList)
            await press(pilot, "slash")
            await type_text(pilot, "tools")
            assert names(image_list) == ["demo/tools:2.3"]
            await press(pilot, "escape")
            assert len(image_list.shown) == 4

    async def test_sort_cycles_and_reverses(self, app):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            image_list = app.screen.query_one(ImageList)
            await press(pilot, "o")  # repository
            assert names(image_list)[0] == "demo/tools:2.3"
            assert names(image_list)[-1] == "<none>:<none>"
            await press(pilot, "o", "o", "o")  # tag, id, size
            assert image_list.sort_key == "size"
            assert names(image_list)[0].startswith("demo/webapp")
            await press(pilot, "O")
            assert names(image_list)[0] == "demo/tools:2.3"

    async def test_dangling_images_toggle(self, app):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            image_list = app.screen.query_one(ImageList)
            await press(pilot, "h")
            assert "<none>:<none>" not in names(image_list)
            await press(pilot, "h")
            assert "<none>:<none>" in names(image_list)

    async def test_marks_select_several_rows(self, app):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            image_list = app.screen.query_one(ImageList)
            await press(pilot, "space", "down", "space")
            assert [f"{r.repository}:{r.tag}" for r in image_list.selected_rows()] == [
                "demo/webapp:1.0", "<none>:<none>"]
            await press(pilot, "ctrl+a")
            assert len(image_list.selected_rows()) == 4
            await press(pilot, "ctrl+a")
            assert image_list.marked == set()


class TestPanes:
    async def test_layers_follow_the_selection(self, app):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            layers = app.screen.query_one(LayersPane)
            assert len(layers.infos) == 4
            assert "COPY static/" in layers.infos[3].created_by
            await press(pilot, "down", "down", "down")
            assert len(layers.infos) == 2  # demo/tools

    async def test_tabs_by_number_and_history_full_command(self, app):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "3")
            assert app.screen.query_one(TabbedContent).active == "history"
            history = app.screen.query_one(HistoryPane)
            assert len(history.rows) == 10
            history.query_one(DataTable).focus()
            await press(pilot, "down", "down", "down", "enter")
            assert isinstance(app.screen, TextModal)
            assert "COPY static/ /app/static/" in app.screen.text
            await press(pilot, "escape")
            assert isinstance(app.screen, MainScreen)

    async def test_config_inspector_copies_values(self, app, copied):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "4")
            pane = app.screen.query_one(ConfigPane)
            tree = pane.query_one("Tree")
            tree.focus()
            await settle(pilot)
            assert {c.data.path for c in tree.root.children} == {"Config", "Manifest", "Inspect"}
            # Config is expanded: walk down to architecture
            await press(pilot, "down", "y")
            assert copied[-1] == "amd64"

    async def test_enter_on_an_image_focuses_the_pane(self, app):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "enter")
            assert app.focused.id == "layer-table"

    async def test_zoom_maximizes_the_panes(self, app):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "enter", "z")
            assert app.screen.maximized is not None
            await press(pilot, "escape")
            assert app.screen.maximized is None


class TestHelpAndPalette:
    async def test_question_mark_lists_every_key(self, app):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "question_mark")
            assert isinstance(app.screen, HelpScreen)
            titles = [title for title, _ in app.screen.sections()]
            assert "Layer tree" in titles and "Efficiency" in titles
            sections = {title: dict(rows) for title, rows in app.screen.sections()}
            assert sections["Images (list)"]["/"] == "Filter"
            assert sections["Actions on the selected or marked images"]["p"] == "Prune"
            assert sections["Layer tree"]["/"] == "Search"
            await press(pilot, "escape")
            assert isinstance(app.screen, MainScreen)

    async def test_command_palette_runs_actions(self, app):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "ctrl+p")
            await type_text(pilot, "prune images")
            await pilot.pause(0.3)
            await press(pilot, "enter")
            assert isinstance(app.screen, PruneDialog)


class TestFirstRun:
    async def test_empty_store_offers_samples(self, empty_app, tmp_path):
        async with empty_app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            assert isinstance(empty_app.screen, FirstRunScreen)
            assert "store is empty" in screen_text(empty_app)
            await press(pilot, "enter")
            assert isinstance(empty_app.screen, MainScreen)
            assert len(empty_app.screen.query_one(ImageList).shown) == 4

    async def test_first_run_can_open_the_load_dialog(self, empty_app):
        from tui.screens.load import LoadDialog

        async with empty_app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "l")
            assert isinstance(empty_app.screen, LoadDialog)

    async def test_no_color_keeps_the_markers(self, app, monkeypatch):
        monkeypatch.setenv("NO_COLOR", "1")
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "2")
            text = screen_text(app)
            assert "~ app/" in text  # modified directory, marked without colour
