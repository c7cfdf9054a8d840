"""The file viewer (text, binary, paging), compare, build, and how errors are shown."""

from __future__ import annotations

from textual.widgets import Input, RichLog

from engine import NotFound, StrataError
from tui.screens import file_viewer
from tui.screens.build import BuildDialog, parse_build_args
from tui.screens.compare import CompareScreen
from tui.screens.error import ErrorModal
from tui.screens.file_viewer import FileViewerScreen, hex_dump, is_text
from tui.screens.main import MainScreen
from tui.testing import settle
from tui.widgets.file_tree import FileTree, FileTreePane
from tui_helpers import press, screen_text

from tui_helpers import SMALL

WEBAPP = "sha256:6de7006a8740b698f5bc4a01c080adbd9bc7bd5eb9d97ed22a61b5b50c656069"
TOOLS = "sha256:f790a7e939908e62a57964e83fd7966e94bfacfd2d84f4259cbb7bd158cefabf"


async def view(app, pilot, path: str, layer: int | None = None) -> FileViewerScreen:
    await settle(pilot)
    await press(pilot, "2")
    pane = app.screen.query_one(FileTreePane)
    pane.reveal(layer, path)
    await settle(pilot)
    assert pane.query_one(FileTree).cursor_node.data.path == path
    await press(pilot, "enter")
    assert isinstance(app.screen, FileViewerScreen)
    return app.screen


class TestFileViewer:
    async def test_text_is_highlighted_with_line_numbers(self, app):
        async with app.run_test(size=SMALL) as pilot:
            viewer = await view(app, pilot, "app/server.py")
            assert viewer.page.text and viewer.page.kind == "text"
            text = screen_text(app)
            assert "/app/server.py" in text and '1 """A tiny web app' in text
            assert "bytes 0–599 of 599" in text

    async def test_binary_is_a_hex_dump(self, app):
        async with app.run_test(size=SMALL) as pilot:
            viewer = await view(app, pilot, "bin/busybox", layer=None)
            assert viewer.page.kind == "ELF executable or library"
            assert len(viewer.page.data) == file_viewer.HEX_PAGE
            assert "00000000  7f 45 4c 46" in screen_text(app)
            await press(pilot, "n")
            assert viewer.page.offset == file_viewer.HEX_PAGE
            assert viewer.page.kind == "ELF executable or library"
            await press(pilot, "p")
            assert viewer.page.offset == 0

    async def test_large_text_is_paged_not_loaded_whole(self, app, monkeypatch):
        monkeypatch.setattr(file_viewer, "TEXT_PAGE", 4096)
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "down", "down", "down")  # demo/tools
            viewer = await view(app, pilot, "var/log/install.log")
            first = viewer.page
            assert first.size > 4096 * 3 and len(first.data) == 4096
            await press(pilot, "n")
            second = viewer.page
            assert second.offset > 0 and second.offset <= 4096
            # pages are cut at line ends, and line numbers carry on
            assert first.data[second.offset - 1:second.offset] == b"\n"
            numbers = [line.split()[0] for line in screen_text(app).splitlines()[1:3]]
            assert int(numbers[0]) > 1

    def test_sniffing(self):
        assert is_text("héllo\n".encode())
        assert not is_text(b"\x7fELF\x00\x01")
        assert "00000010" in hex_dump(bytes(32), 0).plain


class TestCompare:
    async def test_compare_two_images_as_a_tree(self, app):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "c", "down", "down", "down", "c")
            screen = app.screen
            assert isinstance(screen, CompareScreen)
            assert (screen.a_id, screen.b_id) == (WEBAPP, TOOLS)
            counts = screen.index.counts
            assert counts["A"] > 0 and counts["D"] > 0
            text = screen_text(app)
            assert "demo/webapp:1.0 → demo/tools:2.3" in text
            top = [c.data.path for c in screen.query_one(FileTree).root.children]
            assert "app" in top and "usr" in top
            await press(pilot, "minus")  # hide deletions: /app only held deletions
            top = [c.data.path for c in screen.query_one(FileTree).root.children if c.data]
            assert "app" not in top


class TestBuild:
    def test_build_args(self, monkeypatch):
        monkeypatch.setenv("FROM_ENV", "yes")
        assert parse_build_args('A=1 B="two words" FROM_ENV') == {"A": "1", "B": "two words", "FROM_ENV": "yes"}

    async def test_build_with_a_live_log(self, app, engine, tmp_path):
        context = tmp_path / "ctx"
        context.mkdir()
        (context / "hello.txt").write_text("hello from a build\n")
        (context / "Dockerfile").write_text('FROM scratch\nARG MSG=none\nLABEL msg=$MSG\nCOPY hello.txt /\n')
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "B")
            dialog = app.screen
            assert isinstance(dialog, BuildDialog)
            dialog.query_one("#context", Input).value = str(context)
            dialog.query_one("#args", Input).value = "MSG=tui"
            dialog.query_one("#tags", Input).value = "built/by-tui:1"
            dialog.query_one("#tags", Input).focus()
            lines: list[str] = []
            original = dialog.query_one(RichLog).write
            dialog.query_one(RichLog).write = lambda text, *a, **k: (lines.append(str(text)), original(text, *a, **k))
            await press(pilot, "enter")
            assert isinstance(app.screen, MainScreen)
        image_id = engine.resolve("built/by-tui:1")
        assert engine.read_file(image_id, "hello.txt") == b"hello from a build\n"
        assert engine.record(image_id).labels == {"msg": "tui"}
        assert any("COPY hello.txt" in line for line in lines)


class TestErrors:
    async def test_a_pane_error_is_a_toast(self, app, monkeypatch):
        def broken(self, ref):
            raise NotFound("reading history: the blob is gone")

        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            monkeypatch.setattr(type(app.engine), "history", broken)
            await press(pilot, "3")
            assert isinstance(app.screen, MainScreen)
            assert any("blob is gone" in n.message for n in app._notifications)

    async def test_an_unexpected_error_is_a_modal_not_a_traceback(self, app, monkeypatch):
        def broken(self, names, force=False):
            raise RuntimeError("disk on fire")

        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            monkeypatch.setattr(type(app.engine), "remove", broken)
            await press(pilot, "d", "enter")
            assert isinstance(app.screen, ErrorModal)
            assert app.screen.error_title == "Unexpected error"
            assert "disk on fire" in app.screen.message
            await press(pilot, "enter")
            assert isinstance(app.screen, MainScreen)

    async def test_a_store_that_cannot_open_is_a_modal_then_exit(self, tmp_path):
        from tui.app import StrataApp

        blocker = tmp_path / "file"
        blocker.write_text("not a directory")
        app = StrataApp(blocker / "store")
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, ErrorModal)
            assert app.screen.error_title == StrataError.title or "store" in app.screen.message.lower()
            await press(pilot, "enter")
        assert app.return_code == 1
