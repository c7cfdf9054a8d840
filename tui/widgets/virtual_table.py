"""A table that draws only the rows on screen: any number of rows, instant to fill, sort or filter.

Textual's DataTable measures every cell of every row it is given, which
costs about a second per 1,000 rows on a slow machine; this table takes rows
as plain strings, sizes its columns with ``cell_len`` once per fill, and
renders a line only when it is on screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget


@dataclass(frozen=True)
class Column:
    """A column: its key, its header, and whether it is right-aligned."""

    key: str
    label: str
    right: bool = False
    max_width: int = 40


@dataclass
class Row:
    """One row's cells (plain text) and whether it is drawn dim."""

    cells: tuple[str, ...]
    dim: bool = False


def _fit(text: str, width: int, right: bool) -> str:
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
    pad = " " * (width - cell_len(text))
    return pad + text if right else text + pad


class TableHeader(Widget):
    """The header line; clicking a label posts :class:`VirtualTable.HeaderClicked`."""

    DEFAULT_CSS = """
    TableHeader { height: 1; text-style: bold; background: $panel; }
    """

    def __init__(self, table: "VirtualTable", **kwargs) -> None:
        super().__init__(**kwargs)
        self._table = table

    def render_line(self, y: int) -> Strip:
        line = self._table.format_line(tuple(c.label for c in self._table.columns))
        style = self.rich_style
        offset = self._table.body.scroll_offset.x
        return Strip([Segment(line, style)]).crop(offset, offset + self.size.width).adjust_cell_length(
            self.size.width, style)

    def on_click(self, event: events.Click) -> None:
        key = self._table.column_at(event.x)
        if key is not None:
            self.post_message(VirtualTable.HeaderClicked(self._table, key))


class TableBody(ScrollView, can_focus=True):
    """The rows; owns the cursor."""

    COMPONENT_CLASSES = {"table-body--cursor", "table-body--dim"}
    DEFAULT_CSS = """
    TableBody { height: 1fr; }
    TableBody > .table-body--cursor { background: $block-cursor-blurred-background; }
    TableBody:focus > .table-body--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
    }
    TableBody > .table-body--dim { color: $text-muted; }
    """
    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "first", "First row", show=False),
        Binding("end,G", "last", "Last row", show=False),
        Binding("enter", "select", "Select", show=False),
    ]

    cursor = reactive(0, always_update=False, init=False)

    def __init__(self, table: "VirtualTable", **kwargs) -> None:
        super().__init__(**kwargs)
        self._table = table

    @property
    def rows(self) -> list[Row]:
        return self._table.rows

    def watch_scroll_x(self, old: float, new: float) -> None:
        super().watch_scroll_x(old, new)
        self._table.query_one(TableHeader).refresh()

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.rows) - 1)) if self.rows else 0

    def watch_cursor(self, old: int, new: int) -> None:
        self._refresh_row(old)
        self._refresh_row(new)
        self.scroll_to_region(Region(0, new, 1, 1), animate=False, immediate=True)
        if self.rows:
            self.post_message(VirtualTable.Highlighted(self._table, new))

    def _refresh_row(self, index: int) -> None:
        y = index - self.scroll_offset.y
        if 0 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.size.width
        rows = self.rows
        if index >= len(rows):
            return Strip.blank(width, self.rich_style)
        row = rows[index]
        style = self.rich_style
        if index == self.cursor:
            style += self.get_component_rich_style("table-body--cursor")
        elif row.dim:
            style += self.get_component_rich_style("table-body--dim")
        line = self._table.format_line(row.cells)
        strip = Strip([Segment(line, style)])
        return strip.crop(self.scroll_offset.x, self.scroll_offset.x + width).adjust_cell_length(width, style)

    def on_click(self, event: events.Click) -> None:
        index = self.scroll_offset.y + event.y
        if 0 <= index < len(self.rows):
            if index == self.cursor and event.chain >= 2:
                self.action_select()
            self.cursor = index

    def action_move(self, step: int) -> None:
        self.cursor += step

    def action_page(self, step: int) -> None:
        self.cursor += step * max(1, self.size.height - 1)

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = len(self.rows) - 1

    def action_select(self) -> None:
        if self.rows:
            self.post_message(VirtualTable.Selected(self._table, self.cursor))


class VirtualTable(Vertical):
    """Header plus rows.  Give it columns once and rows as often as you like."""

    DEFAULT_CSS = """
    VirtualTable { height: 1fr; }
    """

    @dataclass
    class Highlighted(Message):
        """The cursor moved to row *index*."""

        table: "VirtualTable"
        index: int

        @property
        def control(self) -> "VirtualTable":
            return self.table

    @dataclass
    class Selected(Message):
        """Enter (or a double click) on row *index*."""

        table: "VirtualTable"
        index: int

        @property
        def control(self) -> "VirtualTable":
            return self.table

    @dataclass
    class HeaderClicked(Message):
        """The header of column *key* was clicked."""

        table: "VirtualTable"
        key: str

        @property
        def control(self) -> "VirtualTable":
            return self.table

    def __init__(self, columns: list[Column], *, body_id: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.columns = columns
        self.rows: list[Row] = []
        self.widths = [cell_len(c.label) for c in columns]
        self._body_id = body_id

    def compose(self):
        yield TableHeader(self)
        yield TableBody(self, id=self._body_id)

    @property
    def body(self) -> TableBody:
        return self.query_one(TableBody)

    @property
    def cursor(self) -> int:
        return self.body.cursor

    def move_cursor(self, index: int) -> None:
        self.body.cursor = index

    def set_rows(self, rows: list[Row], cursor: int = 0) -> None:
        """Show *rows*, with the cursor on row *cursor*; always posts :class:`Highlighted`."""
        self.rows = rows
        widths = [cell_len(c.label) for c in self.columns]
        for row in rows:
            for i, cell in enumerate(row.cells):
                n = len(cell)  # cells are mostly ASCII; cell_len only when it matters
                if n > widths[i]:
                    widths[i] = min(self.columns[i].max_width, cell_len(cell) if not cell.isascii() else n)
        self.widths = widths
        body = self.body
        body.virtual_size = Size(self.line_width(), len(rows))
        body.set_reactive(TableBody.cursor, body.validate_cursor(cursor))
        body.scroll_to_region(Region(0, body.cursor, 1, 1), animate=False, immediate=True)
        body.refresh()
        self.query_one(TableHeader).refresh()
        self.post_message(self.Highlighted(self, body.cursor))

    def update_row(self, index: int, row: Row) -> None:
        self.rows[index] = row
        self.body._refresh_row(index)

    def line_width(self) -> int:
        return sum(w + 2 for w in self.widths)

    def format_line(self, cells: tuple[str, ...]) -> str:
        return "".join(" " + _fit(cell, width, col.right) + " "
                       for cell, width, col in zip(cells, self.widths, self.columns))

    def column_at(self, x: int) -> str | None:
        x += self.body.scroll_offset.x
        for column, width in zip(self.columns, self.widths):
            if x < width + 2:
                return column.key
            x -= width + 2
        return None
