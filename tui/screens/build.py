"""Build a Dockerfile: context, Dockerfile, tags, build args, and a live log."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, RichLog, Static

from engine import InvalidReference

from ..messages import TaskDone, TaskFailed, TaskProgress, TaskStatus
from ..widgets.path_input import PathInput
from .task_dialog import TaskDialog

STEP_MARKS = {"running": ("…", "yellow"), "done": ("✓", "green"), "cached": ("=", "cyan"),
              "error": ("✗", "red")}


def parse_build_args(text: str) -> dict[str, str]:
    """``KEY=VALUE KEY2="with space"`` (a bare KEY takes its value from the environment, as docker)."""
    out = {}
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise InvalidReference(f"build args: {exc}") from None
    for word in words:
        key, sep, value = word.partition("=")
        if not key:
            raise InvalidReference(f"build args: {word!r} has no name")
        if sep:
            out[key] = value
        elif key in os.environ:
            out[key] = os.environ[key]
    return out


class BuildDialog(TaskDialog):
    """Dismisses with True after a build."""

    def __init__(self, context: str = "") -> None:
        super().__init__()
        self.context = context or str(Path.cwd())
        self.steps: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog full-dialog"):
            yield Label("Build an image", classes="dialog-title")
            with Horizontal(classes="form-row"):
                yield Label("Context: ", classes="form-label")
                yield PathInput(self.context, id="context", compact=True)
            with Horizontal(classes="form-row"):
                yield Label("Dockerfile: ", classes="form-label")
                yield PathInput("", id="dockerfile", compact=True, placeholder="CONTEXT/Dockerfile")
            with Horizontal(classes="form-row"):
                yield Label("Tags: ", classes="form-label")
                yield Input(placeholder="app:dev other/name:1 (space separated)", id="tags", compact=True)
            with Horizontal(classes="form-row"):
                yield Label("Build args: ", classes="form-label")
                yield Input(placeholder="KEY=VALUE KEY2=VALUE2", id="args", compact=True)
            yield Static("", id="build-steps")
            yield RichLog(id="build-log", max_lines=5000, markup=False, wrap=False)
            with Horizontal(classes="buttons"):
                yield Button("Build", id="ok", variant="primary", compact=True)
                yield Button("Close", id="cancel", compact=True)
            yield Label("Enter builds · Esc cancels the build, or closes", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#tags").focus()

    @on(Button.Pressed, "#cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        self.action_cancel()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _build(self, event) -> None:
        event.stop()
        context = self.query_one("#context", PathInput).path
        dockerfile = self.query_one("#dockerfile", PathInput).path
        tags = self.query_one("#tags", Input).value.split()
        args_text = self.query_one("#args", Input).value
        engine = self.app.engine
        self.steps = {}
        self.query_one("#build-steps", Static).update("")
        self.query_one(RichLog).clear()

        def task(progress, cancel):
            args = parse_build_args(args_text)
            return engine.build(context, dockerfile=dockerfile, tags=tags, build_args=args,
                                progress=progress, cancel=cancel)

        self.start_task(task, "building")

    def on_task_progress(self, message: TaskProgress) -> None:
        self.steps[message.item] = message.action
        text = Text(no_wrap=True, overflow="ellipsis")
        for name, action in list(self.steps.items())[-6:]:
            mark, style = STEP_MARKS.get(action, ("?", ""))
            text.append(f"{mark} ", style=style)
            text.append(f"{name}\n", style="dim" if action in ("done", "cached") else "")
        self.query_one("#build-steps", Static).update(text)

    def on_task_status(self, message: TaskStatus) -> None:
        if message.text:
            self.query_one(RichLog).write(message.text)

    def on_task_done(self, message: TaskDone) -> None:
        result = message.result
        names = ", ".join(result.tags) if result.tags else result.image_id[7:19]
        self.query_one(RichLog).write(f"Successfully built {result.image_id[7:19]} ({names})")
        self.notify(f"Built {names}", title="Built")
        self.dismiss(True)

    def on_task_failed(self, message: TaskFailed) -> None:
        self.query_one(RichLog).write(f"ERROR: {message.message}")
