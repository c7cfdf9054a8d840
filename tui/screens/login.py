"""Log in to a registry: the credentials are checked, then stored like docker login."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label

from ..messages import TaskDone, TaskFailed
from .task_dialog import TaskDialog


class LoginDialog(TaskDialog):
    """Registry, username and password (never shown)."""

    def __init__(self, registry: str = "") -> None:
        super().__init__()
        self.registry = registry

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Log in to a registry", classes="dialog-title")
            with Horizontal(classes="form-row"):
                yield Label("Registry: ", classes="form-label")
                yield Input(self.registry, placeholder="docker.io", id="registry", compact=True)
            with Horizontal(classes="form-row"):
                yield Label("Username: ", classes="form-label")
                yield Input(id="username", compact=True)
            with Horizontal(classes="form-row"):
                yield Label("Password: ", classes="form-label")
                yield Input(password=True, id="password", compact=True)
            yield Checkbox("Insecure registry (http / unverified TLS)", id="insecure", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Log in", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
            yield Label("Enter logs in · Esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#registry" if not self.registry else "#username").focus()

    @on(Button.Pressed, "#cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        self.action_cancel()

    @on(Input.Submitted, "#registry")
    @on(Input.Submitted, "#username")
    def _next(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted, "#password")
    def _login(self, event) -> None:
        event.stop()
        registry = self.query_one("#registry", Input).value.strip() or None
        username = self.query_one("#username", Input).value.strip()
        password = self.query_one("#password", Input).value
        insecure = self.query_one("#insecure", Checkbox).value
        engine = self.app.engine
        self.start_task(lambda progress, cancel: engine.login(registry, username, password, insecure=insecure),
                        "logging in")

    def on_task_done(self, message: TaskDone) -> None:
        self.notify(f"Login Succeeded (credentials in {message.result})", title="Logged in")
        self.dismiss(True)

    def on_task_failed(self, message: TaskFailed) -> None:
        message.modal = False
