"""The image list: docker's columns, sortable, filtered as you type, multi-select."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input
from textual.worker import get_current_worker

from engine.listing import ImageRow, created_ts

from ..format import age, human_size, short_id
from ..messages import TaskFailed
from .virtual_table import Column, Row, VirtualTable

#: Sort orders the list cycles through, with the column each sorts.
SORTS = {
    "created": lambda r: (-_created(r.record), r.repository, r.tag),
    "repository": lambda r: (r.repository == "<none>", r.repository, r.tag),
    "tag": lambda r: (r.tag == "<none>", r.tag, r.repository),
    "id": lambda r: (r.id, r.repository, r.tag),
    "size": lambda r: (-r.record.size, r.repository, r.tag),
}
COLUMNS = [Column("mark", " "), Column("repository", "REPOSITORY", max_width=48), Column("tag", "TAG", max_width=24),
           Column("id", "IMAGE ID"), Column("created", "CREATED"), Column("size", "SIZE", right=True)]
MARK = "●"


_CREATED: dict[str, float] = {}


def _created(record) -> float:
    """The record's creation time, parsed once per image."""
    ts = _CREATED.get(record.id)
    if ts is None:
        ts = _CREATED[record.id] = created_ts(record)
    return ts


def row_key(row: ImageRow) -> str:
    return f"{row.id}|{row.repository}|{row.tag}|{row.digest}"


def row_name(row: ImageRow) -> str:
    """The name an action should use for this row: ``repo:tag``, ``repo@digest`` or the ID."""
    if row.tag != "<none>" and row.repository != "<none>":
        return f"{row.repository}:{row.tag}"
    if row.repository != "<none>" and row.digest != "<none>":
        return f"{row.repository}@{row.digest}"
    return row.id


def is_dangling(row: ImageRow) -> bool:
    return not row.record.tags


class ImageList(Vertical):
    """The store's images; posts :class:`Highlighted` as the cursor moves."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("space", "toggle_mark", "Mark"),
        Binding("o", "cycle_sort", "Sort", show=False),
        Binding("O", "reverse_sort", "Reverse sort", show=False),
        Binding("h", "toggle_dangling", "Show/hide dangling", show=False),
        Binding("ctrl+a", "mark_all", "Mark all / none", show=False),
    ]

    @dataclass
    class Loaded(Message):
        """A fresh listing of the store arrived."""

        rows: list[ImageRow]

    @dataclass
    class Highlighted(Message):
        """The cursor is on *row* (None: the list is empty)."""

        row: ImageRow | None

    @dataclass
    class Chosen(Message):
        """Enter was pressed on *row*."""

        row: ImageRow

    def __init__(self, rows: list[ImageRow] | None = None, **kwargs) -> None:
        """*rows*: a listing already made (at start-up); else the list loads itself."""
        super().__init__(**kwargs)
        self._initial_rows = rows
        self.rows: list[ImageRow] = []
        self.shown: list[ImageRow] = []
        self.marked: set[str] = set()
        self.sort_key = "created"
        self.sort_reverse = False
        self.show_dangling = True
        self.filter_text = ""
        self.loaded = False
        self._cells: dict[str, tuple[str, str, str]] = {}  # per image: ID, age, size

    def compose(self) -> ComposeResult:
        table = VirtualTable(COLUMNS, id="image-table", body_id="image-rows")
        table.border_title = "Images"
        yield table
        yield Input(placeholder="filter: name, tag or ID (Esc clears)", id="image-filter", compact=True)

    def on_mount(self) -> None:
        self.query_one("#image-filter").display = False
        if self._initial_rows is not None:
            self.post_message(self.Loaded(self._initial_rows))
            self._initial_rows = None
        else:
            self.reload()

    # -- data ------------------------------------------------------------------------

    def reload(self) -> None:
        """List the store again (in a worker)."""
        self._list_images()

    @work(thread=True, exclusive=True, group="image-list", exit_on_error=False)
    def _list_images(self) -> None:
        try:
            rows = self.app.engine.images()
        except Exception as exc:
            self.post_message(TaskFailed.of(exc, "listing images"))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(rows))

    def on_image_list_loaded(self, message: Loaded) -> None:
        self.rows = message.rows
        self.loaded = True
        self._cells.clear()
        keys = {row_key(r) for r in self.rows}
        self.marked &= keys
        self._refill()

    @property
    def current_row(self) -> ImageRow | None:
        cursor = self.query_one(VirtualTable).cursor
        return self.shown[cursor] if 0 <= cursor < len(self.shown) else None

    def selected_rows(self) -> list[ImageRow]:
        """The marked rows, else the row under the cursor."""
        marked = [r for r in self.rows if row_key(r) in self.marked]
        if marked:
            return marked
        row = self.current_row
        return [row] if row is not None else []

    # -- drawing ---------------------------------------------------------------------

    def _visible(self) -> list[ImageRow]:
        needle = self.filter_text.lower()
        out = []
        for row in self.rows:
            if not self.show_dangling and is_dangling(row):
                continue
            if needle and needle not in f"{row.repository}:{row.tag} {short_id(row.id)}".lower():
                continue
            out.append(row)
        out.sort(key=SORTS[self.sort_key], reverse=self.sort_reverse)
        return out

    def _row(self, row: ImageRow) -> Row:
        mark = MARK if row_key(row) in self.marked else " "
        cells = self._cells.get(row.id)
        if cells is None:
            rec = row.record
            cells = self._cells[row.id] = (short_id(row.id), age(rec.created), human_size(rec.size))
        return Row((mark, row.repository, row.tag, *cells), dim=is_dangling(row))

    def _refill(self) -> None:
        table = self.query_one(VirtualTable)
        current = self.current_row
        keep = row_key(current) if current is not None else None
        self.shown = self._visible()
        cursor = 0
        if keep is not None:
            cursor = next((i for i, r in enumerate(self.shown) if row_key(r) == keep), 0)
        self._update_titles()
        table.set_rows([self._row(r) for r in self.shown], cursor)

    def _update_titles(self) -> None:
        table = self.query_one(VirtualTable)
        ids = {r.id for r in self.rows}
        hidden = len(self.rows) - len(self.shown)
        title = f"Images ({len(ids)})"
        if self.marked:
            title += f" · {len(self.marked)} marked"
        table.border_title = title
        arrow = "↑" if self.sort_reverse else "↓"
        parts = [f"sort: {self.sort_key} {arrow}"]
        if self.filter_text:
            parts.append(f"filter: {self.filter_text}")
        if not self.show_dangling:
            parts.append("dangling hidden")
        elif hidden:
            parts.append(f"{hidden} hidden")
        if self.loaded and not self.rows:
            parts = ["empty store: l load · P pull · B build"]
        table.border_subtitle = " · ".join(parts)

    # -- events ------------------------------------------------------------------------

    @on(VirtualTable.Highlighted, "#image-table")
    def _row_highlighted(self, event: VirtualTable.Highlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(self.current_row))

    @on(VirtualTable.Selected, "#image-table")
    def _row_selected(self, event: VirtualTable.Selected) -> None:
        event.stop()
        row = self.current_row
        if row is not None:
            self.post_message(self.Chosen(row))

    @on(VirtualTable.HeaderClicked, "#image-table")
    def _header_clicked(self, event: VirtualTable.HeaderClicked) -> None:
        event.stop()
        key = event.key
        if key in SORTS:
            if key == self.sort_key:
                self.sort_reverse = not self.sort_reverse
            else:
                self.sort_key, self.sort_reverse = key, False
            self._refill()

    @on(Input.Changed, "#image-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.filter_text = event.value.strip()
        self._refill()

    @on(Input.Submitted, "#image-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            event.input.display = False
        self.focus_table()

    def on_key(self, event) -> None:
        filter_input = self.query_one("#image-filter", Input)
        if event.key == "escape" and filter_input.has_focus:
            event.stop()
            filter_input.value = ""
            filter_input.display = False
            self.focus_table()
        elif event.key == "down" and filter_input.has_focus:
            event.stop()
            self.focus_table()

    # -- actions -----------------------------------------------------------------------

    def action_filter(self) -> None:
        filter_input = self.query_one("#image-filter", Input)
        filter_input.display = True
        filter_input.focus()

    def action_toggle_mark(self) -> None:
        row = self.current_row
        if row is None:
            return
        self.marked.symmetric_difference_update({row_key(row)})
        table = self.query_one(VirtualTable)
        table.update_row(table.cursor, self._row(row))
        self._update_titles()
        table.move_cursor(table.cursor + 1)

    def action_mark_all(self) -> None:
        keys = {row_key(r) for r in self.shown}
        self.marked = set() if keys <= self.marked else self.marked | keys
        self._refill()

    def action_cycle_sort(self) -> None:
        keys = list(SORTS)
        self.sort_key = keys[(keys.index(self.sort_key) + 1) % len(keys)]
        self.sort_reverse = False
        self._refill()
        self.notify(f"Sorted by {self.sort_key}", timeout=1.5)

    def action_reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._refill()

    def action_toggle_dangling(self) -> None:
        self.show_dangling = not self.show_dangling
        self._refill()
        self.notify("Dangling images shown" if self.show_dangling else "Dangling images hidden", timeout=1.5)

    def focus_table(self) -> None:
        self.query_one(VirtualTable).body.focus()
