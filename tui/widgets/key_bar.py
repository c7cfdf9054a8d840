"""A one-line footer of the keys that work now; click a key to run it.

Textual's Footer recomposes a widget per key on every focus change (tens of
milliseconds each time on a slow machine); this bar is one line of text,
redrawn when the bindings change.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widget import Widget


class KeyBar(Widget):
    """The screen's shown bindings, as ``key description`` pairs, plus the command palette."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    """
    COMPONENT_CLASSES = {"key-bar--key"}
    DEFAULT_CSS += """
    KeyBar > .key-bar--key { color: $footer-key-foreground; text-style: bold; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._spans: list[tuple[int, int, str, object]] = []  # start, end, action, namespace

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        text = Text(no_wrap=True, overflow="crop")
        self._spans = []
        seen: set[str] = set()
        palette = None
        for node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.action == "command_palette":
                palette = (node, binding)
                continue
            if not binding.show or not enabled or binding.action in seen:
                continue
            seen.add(binding.action)
            start = text.cell_len
            text.append(f" {self.app.get_key_display(binding)} ", style=key_style)
            text.append(binding.description)
            self._spans.append((start, text.cell_len, binding.action, node))
        if palette is not None:
            node, binding = palette
            label = Text.assemble(("^p ", key_style), "Commands ")
            start = max(text.cell_len + 1, self.size.width - label.cell_len)
            text.append(" " * (start - text.cell_len))
            text.append_text(label)
            self._spans.append((start, text.cell_len, binding.action, node))
        return text

    async def on_click(self, event: events.Click) -> None:
        for start, end, action, node in self._spans:
            if start <= event.x < end:
                await self.app.run_action(action, node)
                return
