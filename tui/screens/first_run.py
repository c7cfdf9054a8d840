"""The first-run screen: the store is empty; say how to get images, or make samples."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.widgets import Button, Label, Static

from engine.demo import create_demo_images

from ..messages import TaskDone, TaskStatus
from ..widgets.progress_panel import ProgressPanel
from ..widgets.key_bar import KeyBar
from .task_dialog import TaskDialog

INTRO = """\
Strata explores and manages container images with no daemon: every image
lives in this store, and everything happens right here in the terminal.

Get images into the store:

  l  Load an archive (docker save or OCI tar, or an OCI layout dir)
  P  Pull from a registry (docker.io/library/busybox, ghcr.io/…)
  B  Build a Dockerfile

Or press Enter to create three sample images on this machine (no
network): a web app with a wasted-space layer, a tools image and a
dangling build, to try the layer tree, history and efficiency views.
"""


class FirstRunScreen(TaskDialog):
    """Dismisses with "demo" (samples made), "load", "pull", "build", or None."""

    CSS_PATH = "first_run.tcss"
    BINDINGS = [
        Binding("enter,d", "demo", "Create samples"),
        Binding("l", "choose('load')", "Load"),
        Binding("P", "choose('pull')", "Pull"),
        Binding("B", "choose('build')", "Build"),
        Binding("q", "app.quit", "Quit"),
        Binding("escape", "cancel", "Skip"),
    ]

    def compose(self) -> ComposeResult:
        with Center():
            with Vertical(id="first-run"):
                yield Label("Welcome to Strata — your store is empty", classes="dialog-title")
                yield Static(INTRO, id="intro", markup=False)
                yield Label(f"Store: {self.app.store_label}", id="store-label")
                yield Button("Create sample images", id="demo", variant="primary", compact=True)
                yield ProgressPanel(id="demo-progress")
                yield Static("", id="demo-status", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#demo", Button).focus()

    @on(Button.Pressed, "#demo")
    def _demo_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_demo()

    def action_demo(self) -> None:
        busybox = self.app.demo_busybox
        self.query_one("#demo", Button).disabled = True
        self.start_task(lambda progress, cancel: create_demo_images(self.app.engine, busybox, progress),
                        "creating the sample images")

    def action_choose(self, what: str) -> None:
        if not self.running:
            self.dismiss(what)

    def on_task_progress(self, message) -> None:
        self.query_one(ProgressPanel).update_item(message.item, message.action, message.current, message.total)

    def on_task_status(self, message: TaskStatus) -> None:
        self.query_one("#demo-status", Static).update(message.text)

    def on_task_done(self, message: TaskDone) -> None:
        self.notify(f"Created {len(message.result)} sample images", timeout=3)
        self.dismiss("demo")

    def on_task_failed(self, message) -> None:
        self.query_one("#demo", Button).disabled = False
