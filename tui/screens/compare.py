"""Compare two images: what changes from A to B, as a tree (``+`` added, ``~`` changed, ``-`` deleted)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Label, Tree
from textual.widgets.tree import TreeNode
from textual.worker import get_current_worker

from ..format import DIFF_STATUS, STATUS_MARKS, STATUS_STYLES, human_size
from ..messages import TaskFailed
from ..widgets.file_tree import PAGE, TREE_LOCK, FileTree
from ..widgets.key_bar import KeyBar

KIND_NAMES = {"A": "added", "C": "changed", "D": "deleted"}


@dataclass
class DiffIndex:
    """Changes by parent directory, and which kinds each directory's subtree holds."""

    children: dict[str, list]
    kinds_below: dict[str, set[str]]
    counts: Counter


def index_changes(changes: list) -> DiffIndex:
    children: dict[str, list] = {}
    kinds_below: dict[str, set[str]] = {}
    counts: Counter = Counter()
    for change in changes:
        parent = change.path.rpartition("/")[0]
        children.setdefault(parent, []).append(change)
        if change.path not in children:
            children.setdefault(change.path, [])
        counts[change.kind] += 1
        d = parent
        while True:
            kinds_below.setdefault(d, set()).add(change.kind)
            if not d:
                break
            d = d.rpartition("/")[0]
    # a directory listed as C only because it holds changes is not counted as a change
    dirs_c = sum(1 for c in changes if c.kind == "C" and children.get(c.path))
    counts["C"] -= dirs_c
    return DiffIndex({k: v for k, v in children.items() if v}, kinds_below, counts)


@dataclass(frozen=True)
class DirPage:
    """The "… N more" entry of a partly shown directory."""

    path: str
    offset: int


class CompareScreen(Screen):
    """Image A → image B, lazily expanded; ``+ ~ -`` filter the kinds shown."""

    CSS_PATH = "compare.tcss"
    BINDINGS = [
        Binding("escape,q", "close", "Back"),
        Binding("plus", "toggle_kind('A')", "Added", key_display="+"),
        Binding("tilde", "toggle_kind('C')", "Changed", key_display="~"),
        Binding("minus", "toggle_kind('D')", "Deleted", key_display="-"),
        Binding("y", "copy_path", "Copy path", show=False),
    ]

    @dataclass
    class DiffReady(Message):
        """The diff arrived."""

        index: DiffIndex

    def __init__(self, a_id: str, a_name: str, b_id: str, b_name: str) -> None:
        super().__init__()
        self.a_id, self.a_name, self.b_id, self.b_name = a_id, a_name, b_id, b_name
        self.index: DiffIndex | None = None
        self.kinds = {"A", "C", "D"}

    def compose(self) -> ComposeResult:
        yield Label(f"Compare {self.a_name} → {self.b_name}", id="compare-title")
        yield Label("computing the differences…", id="compare-summary")
        tree: FileTree = FileTree("/", id="diff-tree")
        tree.show_root = False
        tree.guide_depth = 2
        yield tree
        yield KeyBar()

    def on_mount(self) -> None:
        self._diff(self.a_id, self.b_id)
        self.query_one(FileTree).focus()

    @work(thread=True, exclusive=True, group="diff", exit_on_error=False)
    def _diff(self, a: str, b: str) -> None:
        try:
            with TREE_LOCK:
                changes = self.app.engine.diff(a, b)
            index = index_changes(changes)
        except Exception as exc:
            self.post_message(TaskFailed.of(exc, "comparing the images"))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.DiffReady(index))

    def on_compare_screen_diff_ready(self, message: DiffReady) -> None:
        self.index = message.index
        self._rebuild()

    def _visible(self, change) -> bool:
        return change.kind in self.kinds or bool(self.index.kinds_below.get(change.path, set()) & self.kinds)

    def _rebuild(self) -> None:
        counts = self.index.counts
        shown = "".join(m if k in self.kinds else "·" for k, m in (("A", "+"), ("C", "~"), ("D", "-")))
        self.query_one("#compare-summary", Label).update(
            f"{counts['A']} added, {counts['C']} changed, {counts['D']} deleted  │  show [{shown}]")
        tree = self.query_one(FileTree)
        tree.clear()
        self._fill(tree.root, "", 0)
        if not tree.root.children:
            tree.root.add_leaf(Text("(no differences)" if not any(counts.values()) else "(all filtered out)",
                                    style="italic dim"))
        else:
            tree.move_cursor(tree.root.children[0])

    def _fill(self, parent: TreeNode, path: str, offset: int) -> None:
        kids = [c for c in self.index.children.get(path, []) if self._visible(c)]
        for change in kids[offset:offset + PAGE]:
            has_kids = bool(self.index.children.get(change.path))
            label = self._label(change, has_kids)
            if has_kids:
                parent.add(label, data=change, allow_expand=True)
            else:
                parent.add_leaf(label, data=change)
        if len(kids) > offset + PAGE:
            parent.add_leaf(Text(f"… {len(kids) - offset - PAGE:,} more (Enter)", style="italic dim"),
                            data=DirPage(path, offset + PAGE))

    @staticmethod
    def _label(change, is_dir: bool) -> Text:
        status = DIFF_STATUS[change.kind]
        style = STATUS_STYLES[status]
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(STATUS_MARKS[status] + " ", style=style)
        text.append(change.path.rpartition("/")[2] + ("/" if is_dir else ""), style=style)
        if not is_dir and (change.size or change.kind != "D"):
            text.append(f"  {human_size(change.size)}", style="dim")
        return text

    @on(Tree.NodeExpanded, "#diff-tree")
    def _expanded(self, event: Tree.NodeExpanded) -> None:
        event.stop()
        if not event.node.children and event.node.data is not None:
            self._fill(event.node, event.node.data.path, 0)

    @on(Tree.NodeSelected, "#diff-tree")
    def _selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        if isinstance(event.node.data, DirPage):
            page = event.node.data
            parent = event.node.parent
            event.node.remove()
            self._fill(parent, page.path, page.offset)

    def action_toggle_kind(self, kind: str) -> None:
        self.kinds.symmetric_difference_update({kind})
        if self.index is not None:
            self._rebuild()

    def action_copy_path(self) -> None:
        node = self.query_one(FileTree).cursor_node
        if node is not None and node.data is not None and not isinstance(node.data, DirPage):
            self.app.copy_to_clipboard("/" + node.data.path)
            self.notify(f"Copied /{node.data.path}")

    def action_close(self) -> None:
        self.dismiss(None)
