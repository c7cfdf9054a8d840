"""The layer tree: layers drive it, lazy pages, filters, merged view, search, efficiency jumps."""

from __future__ import annotations

from textual.widgets import DataTable, OptionList

from tui.screens.extract import ExtractDialog
from tui.screens.file_viewer import FileViewerScreen
from tui.testing import settle
from tui.widgets.efficiency_pane import EfficiencyPane
from tui.widgets.file_tree import PAGE, FileTree, FileTreePane, More
from tui.widgets.layers_pane import LayersPane
from tui_helpers import press, screen_text, type_text

from tui_helpers import LARGE, SMALL


def top_names(pane: FileTreePane) -> list[str]:
    return [c.data.name for c in pane.query_one(FileTree).root.children if c.data is not None
            and not isinstance(c.data, More)]


def child(node, name):
    return next(c for c in node.children if c.data is not None and getattr(c.data, "name", None) == name)


async def open_tree(app, pilot) -> FileTreePane:
    await settle(pilot)
    await press(pilot, "2")
    pane = app.screen.query_one(FileTreePane)
    pane.query_one(FileTree).focus()
    await settle(pilot)
    return pane


class TestLayerTree:
    async def test_top_layer_statuses_and_cumulative_sizes(self, app):
        async with app.run_test(size=SMALL) as pilot:
            pane = await open_tree(app, pilot)
            assert pane.layer_index == 3
            assert top_names(pane) == ["app", "bin", "etc", "root", "tmp", "usr", "var"]
            app_dir = child(pane.query_one(FileTree).root, "app").data
            assert app_dir.status == "modified"
            assert app_dir.size == sum(n.size for n in pane.view.children("app"))
            assert "layer #3 of 4" in screen_text(app)

    async def test_choosing_a_layer_drives_the_tree(self, app):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            layers = app.screen.query_one(LayersPane)
            layers.query_one(DataTable).focus()
            await press(pilot, "up", "up")  # layer 1: COPY app/
            await press(pilot, "enter")
            pane = app.screen.query_one(FileTreePane)
            assert pane.layer_index == 1
            app_dir = child(pane.query_one(FileTree).root, "app").data
            assert app_dir.status == "added"

    async def test_brackets_step_layers_and_m_merges(self, app):
        async with app.run_test(size=SMALL) as pilot:
            pane = await open_tree(app, pilot)
            await press(pilot, "left_square_bracket")
            assert pane.layer_index == 2
            assert app.screen.query_one(LayersPane).query_one(DataTable).cursor_row == 2
            # layer 2 removed the cache: it shows as removed, in red and with "-"
            tree = pane.query_one(FileTree)
            app_node = child(tree.root, "app")
            app_node.expand()
            await settle(pilot)
            assert child(app_node, "cache").data.status == "removed"
            await press(pilot, "m")
            assert pane.layer_index is None
            assert "merged image" in screen_text(app)

    async def test_filters_hide_unchanged(self, app):
        async with app.run_test(size=SMALL) as pilot:
            pane = await open_tree(app, pilot)
            await press(pilot, "equals_sign")  # hide unchanged
            assert top_names(pane) == ["app"]
            assert "show [+~-·]" in screen_text(app)
            await press(pilot, "equals_sign")
            assert len(top_names(pane)) == 7

    async def test_big_directory_is_paged(self, app):
        async with app.run_test(size=SMALL) as pilot:
            pane = await open_tree(app, pilot)
            pane.reveal(3, "app/static/icons")
            await settle(pilot)
            icons = pane._tree_items["app/static/icons"]
            icons.expand()
            await settle(pilot)
            assert len(icons.children) == PAGE + 1
            more = icons.children[-1]
            assert isinstance(more.data, More) and more.data.remaining == 1200 - PAGE
            pane.query_one(FileTree).move_cursor(more)
            await press(pilot, "enter")
            assert len(icons.children) == 2 * PAGE + 1
            pane.query_one(FileTree).move_cursor(icons.children[-1])
            await press(pilot, "enter")
            assert len(icons.children) == 1200
            assert icons.children[-1].data.name == "icon-1199.svg"

    async def test_sort_by_size(self, app):
        async with app.run_test(size=SMALL) as pilot:
            pane = await open_tree(app, pilot)
            await press(pilot, "o")
            assert pane.sort == "size"
            assert top_names(pane)[0] == "bin"

    async def test_search_reveals_the_path(self, app):
        async with app.run_test(size=SMALL) as pilot:
            pane = await open_tree(app, pilot)
            await press(pilot, "slash")
            await type_text(pilot, "icon-1150")
            await press(pilot, "enter")
            results = pane.query_one("#search-results", OptionList)
            assert results.option_count == 1
            await press(pilot, "enter")
            node = pane.query_one(FileTree).cursor_node
            assert node.data.path == "app/static/icons/icon-1150.svg"
            assert pane.query_one(FileTree).has_focus

    async def test_enter_on_a_file_opens_the_viewer_and_x_extracts(self, app):
        async with app.run_test(size=SMALL) as pilot:
            pane = await open_tree(app, pilot)
            pane.reveal(3, "app/server.py")
            await settle(pilot)
            await press(pilot, "enter")
            assert isinstance(app.screen, FileViewerScreen)
            await press(pilot, "escape", "x")
            assert isinstance(app.screen, ExtractDialog)
            assert app.screen.path == "app/server.py"


class TestEfficiency:
    async def test_score_and_wasted_files(self, app):
        async with app.run_test(size=LARGE) as pilot:
            await settle(pilot)
            await press(pilot, "5")
            pane = app.screen.query_one(EfficiencyPane)
            for _ in range(200):  # the analysis runs in a worker; on a loaded machine it can lag
                if pane.analysis is not None and "removed by layer 2" in screen_text(app):
                    break
                await pilot.pause(0.05)
            analysis = pane.analysis
            assert [f.path for f in analysis.files] == ["app/cache/data.bin", "app/config.json",
                                                        "app/cache/index.json"]
            text = screen_text(app)
            assert "Efficiency 42.4 %" in text and "removed by layer 2" in text

    async def test_enter_shows_the_wasted_file_in_its_layer(self, app):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "5")
            app.screen.query_one(EfficiencyPane).query_one(DataTable).focus()
            await press(pilot, "enter")
            tree_pane = app.screen.query_one(FileTreePane)
            assert tree_pane.layer_index == 2
            node = tree_pane.query_one(FileTree).cursor_node
            assert node.data.path == "app/cache/data.bin" and node.data.status == "removed"
