"""Every local action through the UI, checked in the store (or on disk) afterwards."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import time

import pytest
from textual.widgets import Button, Input, Select, SelectionList, Switch

from engine import Engine, NotFound
from tui.screens.error import ErrorModal
from tui.screens.extract import ExtractDialog
from tui.screens.load import LoadDialog
from tui.screens.main import MainScreen
from tui.screens.prune import PruneDialog
from tui.screens.remove import RemoveDialog, plan_removal
from tui.screens.save import SaveDialog
from tui.screens.tag import TagDialog
from tui.testing import settle
from tui.widgets.image_list import ImageList
from tui_helpers import press, require, screen_text, type_text

from tui_helpers import SMALL

WEBAPP = "sha256:6de7006a8740b698f5bc4a01c080adbd9bc7bd5eb9d97ed22a61b5b50c656069"
TOOLS = "sha256:f790a7e939908e62a57964e83fd7966e94bfacfd2d84f4259cbb7bd158cefabf"
DANGLING = "sha256:0addcd8c53147295dea533b550b45cd8141f9b5cd64bd5868f774160cad6cea3"


def shown(app) -> list[str]:
    return [f"{r.repository}:{r.tag}" for r in app.screen.query_one(ImageList).shown]


async def goto(pilot, app, name: str) -> None:
    """Put the list's cursor on the row called *name*."""
    rows = shown(app)
    await press(pilot, "home")
    for _ in range(rows.index(name)):
        await pilot.press("down")
    await settle(pilot)


async def set_input(pilot, widget: Input, value: str) -> None:
    widget.value = value
    widget.focus()
    await settle(pilot)


class TestTag:
    async def test_tag_adds_a_name(self, app, engine):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "t")
            assert isinstance(app.screen, TagDialog)
            field = app.screen.query_one("#target", Input)
            assert field.value == "demo/webapp:"
            await press(pilot, "end")
            await type_text(pilot, "2.0")
            await press(pilot, "enter")
            assert isinstance(app.screen, MainScreen)
            assert engine.resolve("demo/webapp:2.0") == WEBAPP
            assert "demo/webapp:2.0" in shown(app)

    async def test_a_bad_name_is_a_toast_and_the_dialog_stays(self, app, engine):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "t")
            await set_input(pilot, app.screen.query_one("#target", Input), "Bad Name!")
            await press(pilot, "enter")
            assert isinstance(app.screen, TagDialog)
            assert any("invalid" in n.message.lower() for n in app._notifications)
            await press(pilot, "escape")
            assert isinstance(app.screen, MainScreen)


class TestRemove:
    def test_plan_says_what_is_untagged_and_deleted(self, app, engine):
        rows = engine.images()
        by_name = {f"{r.repository}:{r.tag}": r for r in rows}
        plan = plan_removal([by_name["demo/webapp:1.0"]], rows)
        assert plan.untagged == ["demo/webapp:1.0"] and plan.deleted == []
        plan = plan_removal([by_name["demo/webapp:1.0"], by_name["demo/webapp:latest"]], rows)
        assert [row.id for row, _ in plan.deleted] == [WEBAPP]
        plan = plan_removal([by_name["<none>:<none>"]], rows)
        assert plan.untagged == [] and [row.id for row, _ in plan.deleted] == [DANGLING]

    async def test_remove_one_name_keeps_the_image(self, app, engine):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "d")
            assert isinstance(app.screen, RemoveDialog)
            text = screen_text(app)
            assert "Untagged (1)" in text and "No image is deleted" in text
            await press(pilot, "enter")
            assert isinstance(app.screen, MainScreen)
            with pytest.raises(NotFound):
                engine.resolve("demo/webapp:1.0")
            assert engine.resolve("demo/webapp:latest") == WEBAPP

    async def test_remove_marked_images_deletes_them(self, app, engine):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await goto(pilot, app, "<none>:<none>")
            await press(pilot, "space", "space", "d")  # the dangling image and demo/tools
            assert "Deleted (2)" in screen_text(app)
            await press(pilot, "enter")
            assert {r.id for r in engine.images()} == {WEBAPP}
            assert shown(app) == ["demo/webapp:1.0", "demo/webapp:latest"]


class TestPrune:
    async def test_preview_then_prune_dangling(self, app, engine):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "p")
            assert isinstance(app.screen, PruneDialog)
            assert [i.image_id for i in app.screen.items] == [DANGLING]
            assert app.screen.total == engine.prune(dry_run=True).reclaimed > 0
            assert "1 dangling image(s); frees" in screen_text(app)
            await press(pilot, "enter")
            assert isinstance(app.screen, MainScreen)
            assert {r.id for r in engine.images()} == {WEBAPP, TOOLS}

    async def test_prune_all_previews_every_image(self, app, engine):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "p")
            app.screen.query_one(Switch).value = True
            await settle(pilot)
            items = app.screen.items
            assert {i.image_id for i in items} == {WEBAPP, TOOLS, DANGLING}
            assert sum(i.frees for i in items) < app.screen.total  # the shared base counts once
            app.screen.query_one("#ok", Button).focus()
            await press(pilot, "enter")
            assert engine.images() == []


class TestSave:
    async def save(self, pilot, app, dest, fmt="docker", compression="none") -> None:
        await press(pilot, "s")
        dialog = app.screen
        assert isinstance(dialog, SaveDialog)
        dialog.query_one("#format", Select).value = fmt
        await settle(pilot)
        if compression != "none":
            dialog.query_one("#compression", Select).value = compression
            await settle(pilot)
        await set_input(pilot, dialog.query_one("#dest", Input), str(dest))
        await press(pilot, "enter")
        assert isinstance(app.screen, MainScreen), screen_text(app)

    async def test_docker_archive_loads_back_and_skopeo_reads_it(self, app, tmp_path):
        dest = tmp_path / "webapp.tar"
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await self.save(pilot, app, dest)
        other = Engine(tmp_path / "other")
        loaded = other.load(dest.open("rb"))
        assert loaded[0].id == WEBAPP
        require("skopeo")
        out = subprocess.run(["skopeo", "inspect", f"docker-archive:{dest}"], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert len(json.loads(out.stdout)["Layers"]) == 4

    async def test_oci_archive_with_zstd_is_readable_by_skopeo(self, app, tmp_path):
        dest = tmp_path / "webapp.tar.zst"
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await self.save(pilot, app, dest, fmt="oci", compression="zstd")
        assert dest.read_bytes()[:4] == b"\x28\xb5\x2f\xfd"
        require("skopeo")
        plain = tmp_path / "plain.tar"
        import zstandard

        with dest.open("rb") as src, plain.open("wb") as out:
            zstandard.ZstdDecompressor().copy_stream(src, out)
        out = subprocess.run(["skopeo", "inspect", f"oci-archive:{plain}"], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr

    async def test_marked_images_to_an_oci_layout_dir(self, app, tmp_path):
        dest = tmp_path / "layout"
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await goto(pilot, app, "demo/tools:2.3")
            await press(pilot, "space")
            await press(pilot, "home", "space")
            await press(pilot, "s")
            assert list(app.screen.query_one(SelectionList).selected) == ["demo/webapp:1.0", "demo/tools:2.3"]
            await press(pilot, "escape")
            await self.save(pilot, app, dest, fmt="oci-dir")
        index = json.loads((dest / "index.json").read_text())
        assert len(index["manifests"]) == 2

    async def test_export_writes_the_flattened_rootfs(self, app, tmp_path):
        dest = tmp_path / "rootfs.tar"
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await self.save(pilot, app, dest, fmt="rootfs")
        with tarfile.open(dest) as tar:
            names = set(tar.getnames())
        assert "app/server.py" in names and "app/cache/data.bin" not in names


class TestLoad:
    @pytest.fixture
    def archive(self, engine, tmp_path):
        path = tmp_path / "tools.tar"
        engine.save(["demo/tools:2.3"], path)
        return path

    async def test_load_an_archive(self, empty_app, archive):
        async with empty_app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "l")  # from the first-run screen
            dialog = empty_app.screen
            assert isinstance(dialog, LoadDialog)
            await set_input(pilot, dialog.query_one("#path", Input), str(archive))
            await press(pilot, "enter")
            assert isinstance(empty_app.screen, MainScreen)
            assert shown(empty_app) == ["demo/tools:2.3"]

    async def test_import_a_rootfs_tarball(self, app, engine, tmp_path):
        rootfs = tmp_path / "rootfs.tar"
        with tarfile.open(rootfs, "w") as tar:
            data = b"imported\n"
            info = tarfile.TarInfo("hello.txt")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "i")
            dialog = app.screen
            assert dialog.mode == "import"
            await set_input(pilot, dialog.query_one("#reference", Input), "imported/rootfs:1")
            await set_input(pilot, dialog.query_one("#path", Input), str(rootfs))
            await press(pilot, "enter")
            assert isinstance(app.screen, MainScreen)
        image_id = engine.resolve("imported/rootfs:1")
        assert engine.read_file(image_id, "hello.txt") == b"imported\n"

    async def test_escape_cancels_a_load(self, empty_app, archive, monkeypatch):
        from tui import progress_streams

        original = progress_streams.ProgressReader.read

        def slow_read(self, n=-1):
            time.sleep(0.05)
            return original(self, 4096 if n is None or n < 0 or n > 4096 else n)

        monkeypatch.setattr(progress_streams.ProgressReader, "read", slow_read)
        monkeypatch.setattr(progress_streams, "STEP", 1)
        async with empty_app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "l")
            dialog = empty_app.screen
            await set_input(pilot, dialog.query_one("#path", Input), str(archive))
            await pilot.press("enter")
            await pilot.pause(0.3)
            assert dialog.running
            await pilot.press("escape")
            await settle(pilot)
            assert not dialog.running
            assert any("cancelled" in n.message for n in empty_app._notifications)
            assert Engine(empty_app.store_path).images() == []

    async def test_a_missing_file_is_an_error_modal(self, app, tmp_path):
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "l")
            await set_input(pilot, app.screen.query_one("#path", Input), str(tmp_path / "nope.tar"))
            await press(pilot, "enter")
            assert isinstance(app.screen, ErrorModal)
            assert "no such file" in app.screen.message
            await press(pilot, "escape")
            assert isinstance(app.screen, LoadDialog)


class TestExtract:
    async def test_extract_a_file_keeps_its_mode(self, app, tmp_path):
        from tui.widgets.file_tree import FileTreePane

        dest = tmp_path / "out"
        dest.mkdir()
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "2")
            pane = app.screen.query_one(FileTreePane)
            pane.reveal(None, "bin/busybox")
            await settle(pilot)
            await press(pilot, "x")
            assert isinstance(app.screen, ExtractDialog)
            await set_input(pilot, app.screen.query_one("#dest", Input), str(dest))
            await press(pilot, "enter")
            assert isinstance(app.screen, MainScreen)
        out = dest / "busybox"
        assert out.read_bytes()[:4] == b"\x7fELF"
        assert os.stat(out).st_mode & 0o777 == 0o755

    async def test_extract_a_directory(self, app, tmp_path):
        dest = tmp_path / "static"
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            app.push_screen(ExtractDialog(WEBAPP, "app/static"))
            await settle(pilot)
            await set_input(pilot, app.screen.query_one("#dest", Input), str(dest))
            await press(pilot, "enter")
        assert len(list((dest / "icons").iterdir())) == 1200
        assert (dest / "index.html").read_text().startswith("<!doctype html>")
