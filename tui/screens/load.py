"""Load an image archive (or OCI layout directory), or import a rootfs tarball."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DirectoryTree, Input, Label, RadioButton, RadioSet, Static

from engine import NotFound

from ..messages import TaskDone, TaskProgress, TaskStatus
from ..progress_streams import ProgressReader
from ..widgets.path_input import PathInput
from ..widgets.progress_panel import ProgressPanel
from .task_dialog import TaskDialog

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.zstd", ".gz", ".zst")


class ArchiveTree(DirectoryTree):
    """Directories and archive files only."""

    def filter_paths(self, paths):
        return [p for p in paths if not p.name.startswith(".")
                and (p.is_dir() or p.name.endswith(ARCHIVE_SUFFIXES))]


def run_load(engine, path: Path, mode: str, reference: str, message: str, progress):
    """Load or import *path*; returns the names loaded."""
    if mode == "load" and path.is_dir():
        loaded = engine.load(path, progress=progress)
        return [", ".join(t.familiar() for t in i.tags) or i.id[7:19] for i in loaded]
    try:
        stream = open(path, "rb")
    except FileNotFoundError:
        raise NotFound(f"no such file: {path}") from None
    except IsADirectoryError:
        raise NotFound(f"{path} is a directory: import takes a tarball") from None
    total = path.stat().st_size
    with stream:
        reader = ProgressReader(stream, progress, "archive", "Reading", total)
        if mode == "import":
            image_id = engine.import_image(reader, reference or None, message, source=str(path))
            return [reference or image_id[7:19]]
        only_status = lambda event: progress(event) if not hasattr(event, "current") else None  # noqa: E731
        loaded = engine.load(reader, progress=only_status)
    return [", ".join(t.familiar() for t in i.tags) or i.id[7:19] for i in loaded]


class LoadDialog(TaskDialog):
    """``mode`` is "load" (archives) or "import" (rootfs tarballs)."""

    def __init__(self, mode: str = "load") -> None:
        super().__init__()
        self.mode = mode

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide-dialog tall-dialog"):
            yield Label("Load images", classes="dialog-title")
            with RadioSet(id="mode", compact=True):
                yield RadioButton("Load an image archive or OCI layout dir", value=self.mode == "load", id="load")
                yield RadioButton("Import a rootfs tarball", value=self.mode == "import", id="import")
            with Horizontal(classes="form-row"):
                yield Label("File: ", classes="form-label")
                yield PathInput("", id="path", compact=True, placeholder="path (→ completes) or pick below")
            with Horizontal(classes="form-row import-only"):
                yield Label("Name: ", classes="form-label")
                yield Input(placeholder="REPOSITORY[:TAG] for the imported image (optional)", id="reference",
                            compact=True)
            yield ArchiveTree(Path.cwd(), id="picker")
            yield ProgressPanel()
            yield Static("", id="load-status", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Load", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
            yield Label("Tab to the picker · Enter loads · Esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self._show_mode()
        self.query_one("#path").focus()

    def _show_mode(self) -> None:
        self.query_one(".import-only").display = self.mode == "import"
        self.query_one("#ok", Button).label = "Import" if self.mode == "import" else "Load"
        self.query_one(".dialog-title", Label).update(
            "Import a rootfs tarball" if self.mode == "import" else "Load images")

    @on(RadioSet.Changed, "#mode")
    def _mode_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self.mode = event.pressed.id or "load"
        self._show_mode()

    @on(DirectoryTree.FileSelected, "#picker")
    def _file_picked(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.query_one(PathInput).value = str(event.path)
        self.query_one("#ok").focus()

    @on(DirectoryTree.DirectorySelected, "#picker")
    def _dir_picked(self, event: DirectoryTree.DirectorySelected) -> None:
        event.stop()
        self.query_one(PathInput).value = str(event.path) + "/"

    @on(Button.Pressed, "#cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted, "#path")
    @on(Input.Submitted, "#reference")
    def _load(self, event) -> None:
        event.stop()
        path = self.query_one(PathInput).path
        if path is None:
            self.notify("Give a file to load", severity="warning")
            return
        engine, mode = self.app.engine, self.mode
        reference = self.query_one("#reference", Input).value.strip()
        self.query_one(ProgressPanel).reset()
        self.start_task(lambda progress, cancel: run_load(engine, path, mode, reference, "", progress),
                        f"loading {path}")

    def on_task_progress(self, message: TaskProgress) -> None:
        self.query_one(ProgressPanel).update_item(message.item, message.action, message.current, message.total)

    def on_task_status(self, message: TaskStatus) -> None:
        self.query_one("#load-status", Static).update(message.text)

    def on_task_done(self, message: TaskDone) -> None:
        verb = "Imported" if self.mode == "import" else "Loaded"
        self.notify("\n".join(f"{verb} image: {n}" for n in message.result), title=verb)
        self.dismiss(True)
