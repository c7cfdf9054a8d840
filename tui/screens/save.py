"""Save images to an archive (docker, OCI, OCI layout dir), or export one image's rootfs."""

from __future__ import annotations

import os
import re
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, SelectionList
from textual.widgets.selection_list import Selection

from engine import InvalidReference

from ..messages import TaskDone, TaskProgress
from ..progress_streams import ProgressWriter
from ..widgets.path_input import PathInput
from ..widgets.progress_panel import ProgressPanel
from .task_dialog import TaskDialog

FORMATS = [("docker-archive (docker save)", "docker"), ("OCI archive", "oci"),
           ("OCI layout directory", "oci-dir"), ("rootfs tar (export, one image)", "rootfs")]
COMPRESSIONS = [("none", "none"), ("gzip", "gzip"), ("zstd", "zstd")]
SUFFIX = {"none": ".tar", "gzip": ".tar.gz", "zstd": ".tar.zst"}


def default_file(names: list[str], fmt: str, compression: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", names[0].rpartition("/")[2]) if names else "images"
    stem = stem[7:19] if stem.startswith("sha256_") else stem
    if fmt == "oci-dir":
        return stem + "-oci"
    return stem + (".tar" if fmt == "rootfs" else SUFFIX[compression])


def export_rootfs(engine, name: str, path: Path, progress) -> None:
    """``export`` to *path* through a temp file, reporting bytes written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            engine.export(name, ProgressWriter(f, progress, "rootfs", "Exporting", None))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class SaveDialog(TaskDialog):
    """Choose images, format, compression and the destination."""

    def __init__(self, names: list[str], all_names: list[str]) -> None:
        super().__init__()
        self.names = names
        self.all_names = list(dict.fromkeys(names + all_names))

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide-dialog"):
            yield Label("Save images", classes="dialog-title")
            yield SelectionList(*[Selection(n, n, n in self.names) for n in self.all_names], id="names")
            with Horizontal(classes="form-row"):
                yield Select(FORMATS, value="docker", allow_blank=False, id="format", compact=True)
                yield Select(COMPRESSIONS, value="none", allow_blank=False, id="compression", compact=True)
            with Horizontal(classes="form-row"):
                yield Label("To: ", classes="form-label")
                yield PathInput(str(Path.cwd() / default_file(self.names, "docker", "none")), id="dest",
                                compact=True)
            yield ProgressPanel()
            with Horizontal(classes="buttons"):
                yield Button("Save", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
            yield Label("space picks images · Enter saves · Esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#dest").focus()

    @on(Select.Changed)
    def _option_changed(self, event: Select.Changed) -> None:
        event.stop()
        fmt = self.query_one("#format", Select).value
        compression = self.query_one("#compression", Select).value
        self.query_one("#compression", Select).disabled = fmt in ("oci-dir", "rootfs")
        dest = self.query_one(PathInput)
        current = dest.path
        folder = current.parent if current is not None else Path.cwd()
        dest.value = str(folder / default_file(self._chosen(), fmt, compression))

    def _chosen(self) -> list[str]:
        return list(self.query_one(SelectionList).selected)

    @on(Button.Pressed, "#cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted, "#dest")
    def _save(self, event) -> None:
        event.stop()
        names = self._chosen()
        dest = self.query_one(PathInput).path
        fmt = self.query_one("#format", Select).value
        compression = self.query_one("#compression", Select).value
        if not names or dest is None:
            self.notify("Pick at least one image and a destination", severity="warning")
            return
        if fmt == "rootfs" and len(names) != 1:
            self.notify("Export writes one image's filesystem: pick exactly one", severity="warning")
            return
        engine = self.app.engine
        self.query_one(ProgressPanel).reset()

        def task(progress, cancel):
            if not dest.parent.is_dir():
                raise InvalidReference(f"saving: the directory {dest.parent} does not exist")
            if fmt == "rootfs":
                export_rootfs(engine, names[0], dest, progress)
            else:
                engine.save(names, dest, format=fmt, compression=None if compression == "none" else compression,
                            progress=progress)
            return dest

        self.start_task(task, f"saving to {dest}")

    def on_task_progress(self, message: TaskProgress) -> None:
        self.query_one(ProgressPanel).update_item(message.item, message.action, message.current, message.total)

    def on_task_done(self, message: TaskDone) -> None:
        self.notify(f"Wrote {message.result}", title="Saved")
        self.dismiss(message.result)
