"""The modal for an error that stops the user."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ErrorModal(ModalScreen[None]):
    """Shows an engine error's title and message until dismissed."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [
        Binding("escape,enter", "dismiss_error", "Close"),
        Binding("y", "copy", "Copy message"),
    ]

    def __init__(self, title: str, message: str) -> None:
        super().__init__(classes="dialog-screen")
        self.error_title = title
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog error-dialog"):
            yield Label(self.error_title, classes="dialog-title error-title")
            yield Static(self.message, classes="error-message", markup=False)
            yield Button("OK", id="ok", variant="error", compact=True)

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_dismiss_error(self) -> None:
        self.dismiss(None)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(f"{self.error_title}: {self.message}")
        self.notify("Copied the message to the clipboard")
