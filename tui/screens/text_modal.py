"""A modal that shows a long text (a history step's full command) with copy."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class TextModal(ModalScreen[None]):
    """*text* in full, wrapped; ``y`` copies it."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [
        Binding("escape,enter,q", "close", "Close"),
        Binding("y", "copy", "Copy"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__(classes="dialog-screen")
        self.text_title = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog text-dialog"):
            yield Label(self.text_title, classes="dialog-title")
            with VerticalScroll(classes="text-body"):
                yield Static(self.text or "(empty)", markup=False)
            yield Label("y copies · Esc closes", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self.notify("Copied")
