"""The ``?`` screen: every key of the screen underneath, grouped by where it works."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static
from rich.table import Table
from rich.text import Text

Section = tuple[str, list[tuple[str, str]]]


def binding_rows(bindings: list[BindingType]) -> list[tuple[str, str]]:
    """(keys, description) for each described binding of a BINDINGS list."""
    rows = []
    for b in bindings:
        if isinstance(b, Binding):
            keys, desc, display = b.key, b.description, b.key_display
        else:
            keys, desc, display = b[0], (b[2] if len(b) > 2 else ""), None
        if not desc:
            continue
        rows.append((display or _keys(keys), desc))
    return rows


def _keys(keys: str) -> str:
    names = {"question_mark": "?", "slash": "/", "space": "space", "left_square_bracket": "[",
             "right_square_bracket": "]", "plus": "+", "minus": "-", "tilde": "~",
             "equals_sign": "=", "full_stop": ".", "escape": "Esc", "enter": "Enter"}
    return ", ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    """Lists the keys of *under* (its ``help_sections()``, else its active bindings)."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close help")]

    def __init__(self, under: Screen) -> None:
        super().__init__(classes="dialog-screen")
        self.under = under

    def sections(self) -> list[Section]:
        source = getattr(self.under, "help_sections", None)
        if source is not None:
            return list(source())
        rows = [(_keys(b.binding.key_display or key), b.binding.description)
                for key, b in self.under.active_bindings.items() if b.binding.description]
        return [("Keys", rows)]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help-dialog"):
            yield Label("Strata — keys", classes="dialog-title")
            with VerticalScroll(id="help-body"):
                for title, rows in self.sections():
                    table = Table.grid(padding=(0, 2))
                    table.add_column(style="bold", min_width=12)
                    table.add_column()
                    for keys, desc in rows:
                        table.add_row(keys, desc)
                    yield Static(Text(title, style="bold underline"), classes="help-section")
                    yield Static(table)
            yield Label("Esc closes · the command palette (ctrl+p) lists every action", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)
