"""Remove images: first say what is untagged and what is deleted, then do it."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Label, Static

from engine.listing import ImageRow

from ..format import human_size, short_id
from ..messages import TaskDone, TaskFailed
from ..widgets.image_list import is_dangling, row_name
from .task_dialog import TaskDialog


@dataclass
class RemovalPlan:
    """What removing some rows does, as docker rmi would: names untagged, images deleted."""

    names: list[str] = field(default_factory=list)
    untagged: list[str] = field(default_factory=list)
    deleted: list[tuple[ImageRow, list[str]]] = field(default_factory=list)  # with its names


def plan_removal(selected: list[ImageRow], all_rows: list[ImageRow]) -> RemovalPlan:
    """An image is deleted when every name it has is removed (or it has none)."""
    plan = RemovalPlan()
    chosen: dict[str, set[str]] = {}
    for row in selected:
        name = row_name(row)
        if name in plan.names:
            continue
        plan.names.append(name)
        if not is_dangling(row):
            plan.untagged.append(name)
        chosen.setdefault(row.id, set()).add(name)
    for image_id, names in chosen.items():
        rows = [r for r in all_rows if r.id == image_id]
        tagged = {row_name(r) for r in rows if not is_dangling(r)}
        if tagged <= names:
            plan.deleted.append((rows[0], sorted(tagged)))
    return plan


class RemoveDialog(TaskDialog):
    """Dismisses with True when something was removed."""

    def __init__(self, selected: list[ImageRow], all_rows: list[ImageRow]) -> None:
        super().__init__()
        self.plan = plan_removal(selected, all_rows)

    def compose(self) -> ComposeResult:
        plan = self.plan
        body = Text()
        if plan.untagged:
            body.append(f"Untagged ({len(plan.untagged)}):\n", style="bold")
            for name in plan.untagged:
                body.append(f"  - {name}\n")
        if plan.deleted:
            body.append(f"Deleted ({len(plan.deleted)}):\n", style="bold red")
            for row, tagged in plan.deleted:
                names = ", ".join(tagged) or "<none>"
                body.append(f"  x {short_id(row.id)}  {human_size(row.record.size):>8}  {names}\n")
        else:
            body.append("No image is deleted: each keeps another name.\n", style="italic")
        with Vertical(classes="dialog"):
            yield Label(f"Remove {len(plan.names)} image name(s)?", classes="dialog-title")
            with VerticalScroll(classes="preview"):
                yield Static(body, id="plan")
            yield Checkbox("Force (remove even if referenced in several repositories)", id="force", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Remove", id="ok", variant="error", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
            yield Label("Enter removes · Esc cancels · blobs other images use stay", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#ok").focus()

    @on(Button.Pressed, "#cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#ok")
    def _remove(self, event: Button.Pressed) -> None:
        event.stop()
        engine, names = self.app.engine, list(self.plan.names)
        force = self.query_one("#force", Checkbox).value
        self.start_task(lambda progress, cancel: engine.remove(names, force=force), "removing images")

    def on_task_done(self, message: TaskDone) -> None:
        report = message.result
        self.notify(f"Untagged {len(report.untagged)}, deleted {len(report.deleted)}, "
                    f"reclaimed {human_size(report.reclaimed)}", title="Removed")
        self.dismiss(True)

    def on_task_failed(self, message: TaskFailed) -> None:
        self.dismiss(True)  # part may be done: the list is refreshed; the App shows the error
