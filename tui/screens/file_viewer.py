"""The file viewer: a file of an image, a page at a time (text highlighted, binaries in hex)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Label, Static
from textual.worker import get_current_worker

from ..format import human_size, mode_string
from ..messages import TaskFailed
from ..widgets.file_tree import TREE_LOCK
from ..widgets.key_bar import KeyBar
from .extract import ExtractDialog

TEXT_PAGE = 64 * 1024
HEX_PAGE = 16 * 1024
SNIFF = 8192

MAGIC = (
    (b"\x7fELF", "ELF executable or library"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"\x1f\x8b", "gzip data"),
    (b"\x28\xb5\x2f\xfd", "zstd data"),
    (b"PK\x03\x04", "zip archive"),
    (b"%PDF", "PDF document"),
    (b"BZh", "bzip2 data"),
    (b"\xfd7zXZ\x00", "xz data"),
)


def describe_binary(head: bytes) -> str:
    for magic, name in MAGIC:
        if head.startswith(magic):
            return name
    if len(head) > 262 and head[257:262] == b"ustar":
        return "tar archive"
    return "binary data"


def is_text(head: bytes) -> bool:
    if b"\x00" in head[:SNIFF]:
        return False
    try:
        head[:SNIFF].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head[:SNIFF]) - 4  # a character cut at the end
    return True


def hex_dump(data: bytes, offset: int) -> Text:
    """``hexdump -C`` style: offset, 16 bytes in hex, then printable ASCII."""
    out = Text(no_wrap=True)
    for start in range(0, len(data), 16):
        chunk = data[start:start + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk[:8]) + "  " + " ".join(f"{b:02x}" for b in chunk[8:])
        ascii_ = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        out.append(f"{offset + start:08x}  ", style="dim")
        out.append(f"{hexes:<49}")
        out.append(f" |{ascii_}|\n", style="cyan")
    return out


@dataclass
class Page:
    """One page of a file."""

    offset: int
    data: bytes
    size: int
    text: bool
    kind: str


class FileViewerScreen(Screen):
    """Pages through one file; ``n``/``p`` next/previous page, ``x`` extracts it."""

    CSS_PATH = "file_viewer.tcss"
    BINDINGS = [
        Binding("escape,q", "close", "Back"),
        Binding("n,pagedown", "page(1)", "Next page", key_display="n"),
        Binding("p,pageup", "page(-1)", "Prev page", key_display="p"),
        Binding("g,home", "first_page", "First page", show=False),
        Binding("w", "toggle_wrap", "Wrap"),
        Binding("x", "extract", "Extract"),
        Binding("y", "copy_path", "Copy path", show=False),
    ]

    @dataclass
    class PageLoaded(Message):
        """A page of the file arrived."""

        page: Page

    def __init__(self, ref: str, node, image_label: str) -> None:
        super().__init__()
        self.ref = ref
        self.node = node
        self.image_label = image_label
        self.page: Page | None = None
        self.wrap = False
        self._line_starts: dict[int, int] = {0: 1}  # page offset -> its first line number
        self._history: list[int] = []

    def compose(self) -> ComposeResult:
        yield Label("", id="viewer-title")
        with VerticalScroll(id="viewer-body"):
            yield Static(Text("loading…", style="italic dim"), id="viewer-content")
        yield Label("", id="viewer-status")
        yield KeyBar()

    def on_mount(self) -> None:
        n = self.node
        self.query_one("#viewer-title", Label).update(
            Text.assemble((f"/{n.path}", "bold"), f"  {mode_string(n.type, n.mode)} {n.uid}:{n.gid} "
                          f"{human_size(n.size)}  in {self.image_label}", no_wrap=True, overflow="ellipsis"))
        self._load(0)
        self.query_one("#viewer-body").focus()

    def _load(self, offset: int) -> None:
        self._read(self.ref, self.node.path, offset, self.page.text if self.page is not None else None)

    @work(thread=True, exclusive=True, group="viewer", exit_on_error=False)
    def _read(self, ref: str, path: str, offset: int, text: bool | None) -> None:
        engine = self.app.engine
        try:
            with TREE_LOCK:  # builds the image's tree the first time (shared caches)
                engine.image_tree(ref)
            size = engine.file_size(ref, path)  # resolving a path only reads the tree
            length = TEXT_PAGE if text is not False else HEX_PAGE
            data = engine.read_file(ref, path, offset, length)
        except Exception as exc:
            self.post_message(TaskFailed.of(exc, f"reading /{path}", modal=True))
            return
        if text is None:
            text = is_text(data)
            if not text:
                data = data[:HEX_PAGE]
        kind = "text" if text else describe_binary(data if offset == 0 else b"")
        if get_current_worker().is_cancelled:
            return
        self.post_message(self.PageLoaded(Page(offset, data, size, text, kind)))

    def on_file_viewer_screen_page_loaded(self, message: PageLoaded) -> None:
        page = message.page
        if self.page is not None and self.page.kind != "text" and page.offset:
            page.kind = self.page.kind
        self.page = page
        content = self.query_one("#viewer-content", Static)
        if page.size == 0:
            content.update(Text("(empty file)", style="italic dim"))
        elif page.text:
            content.update(self._syntax(page))
        else:
            content.update(hex_dump(page.data, page.offset))
        self.query_one("#viewer-body").scroll_home(animate=False)
        self._show_status()

    def _syntax(self, page: Page) -> Syntax:
        data = page.data
        if page.offset + len(data) < page.size:
            cut = data.rfind(b"\n")
            if cut > 0:
                data = data[:cut + 1]
        self._page_len = len(data)
        text = data.decode("utf-8", errors="replace")
        start = self._line_starts.get(page.offset, 1)
        self._line_starts[page.offset + len(data)] = start + text.count("\n")
        lexer = Syntax.guess_lexer(self.node.path, text[:4096])
        return Syntax(text, lexer, line_numbers=True, start_line=start, word_wrap=self.wrap,
                      theme="ansi_dark", indent_guides=False)

    def _page_length(self) -> int:
        page = self.page
        if page is None:
            return 0
        return getattr(self, "_page_len", len(page.data)) if page.text else len(page.data)

    def _show_status(self) -> None:
        page = self.page
        if page is None:
            return
        end = page.offset + self._page_length()
        where = f"bytes {page.offset:,}–{end:,} of {page.size:,}" if page.size else "0 bytes"
        more = "  ·  n: next page" if end < page.size else ""
        self.query_one("#viewer-status", Label).update(f"{page.kind} · {where}{more}")

    def action_page(self, step: int) -> None:
        page = self.page
        if page is None:
            return
        if step > 0:
            end = page.offset + self._page_length()
            if end >= page.size:
                self.notify("End of file", timeout=1.5)
                return
            self._history.append(page.offset)
            self._load(end)
        elif self._history:
            self._load(self._history.pop())
        else:
            self.notify("Start of file", timeout=1.5)

    def action_first_page(self) -> None:
        if self.page is not None and self.page.offset:
            self._history.clear()
            self._load(0)

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        if self.page is not None and self.page.text:
            self.query_one("#viewer-content", Static).update(self._syntax(self.page))

    def action_extract(self) -> None:
        self.app.push_screen(ExtractDialog(self.ref, self.node.path))

    def action_copy_path(self) -> None:
        self.app.copy_to_clipboard("/" + self.node.path)
        self.notify(f"Copied /{self.node.path}")

    def action_close(self) -> None:
        self.dismiss(None)
