"""The layer tree: one layer's (or the merged image's) files, loaded a page at a time.

Children are fetched in a worker when a directory is expanded, ``PAGE`` at a
time; a "… N more" entry loads the next page.  Every change status has a
colour and a marker (``+ ~ -``), so the tree reads right with NO_COLOR.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, OptionList, Static, Tree
from textual.widgets.option_list import Option
from textual.widgets.tree import TreeNode
from textual.worker import get_current_worker

from ..format import STATUS_MARKS, STATUS_STYLES, human_size, mode_string, one_line
from ..messages import TaskFailed
from .image_pane import ImagePane

PAGE = 500
VIEW_CACHE = 8  # views kept, so stepping back and forth between layers is instant
SEARCH_LIMIT = 1000
ALL_STATUSES = ("added", "modified", "removed", "unchanged")
#: The key that toggles each status filter (also how the header shows it).
FILTER_KEYS = {"added": "+", "modified": "~", "removed": "-", "unchanged": "="}

#: Serialises calls into one image's tree: ImageTree and TreeView keep caches
#: that are not safe to update from two threads at once.
TREE_LOCK = threading.RLock()


@dataclass(frozen=True)
class More:
    """The "… N more" entry at the end of a partly loaded directory."""

    dir_path: str
    offset: int
    remaining: int


@dataclass
class DirState:
    """What the tree holds of one directory's children."""

    loaded: int = 0
    count: int = 0
    loading: bool = False


def node_label(node) -> Text:
    """``+ name/  1.2MB`` — marker, name (coloured by status), size."""
    style = STATUS_STYLES.get(node.status, "")
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(STATUS_MARKS.get(node.status, "?"), style=style or "dim")
    text.append(" ")
    name = node.name + ("/" if node.type == "dir" else "")
    text.append(name, style=(style + " bold") if node.type == "dir" else style)
    if node.type == "symlink":
        text.append(f" → {node.linkname}", style="italic")
    elif node.type == "hardlink":
        text.append(f" ⇒ /{node.linkname}", style="italic")
    text.append(f"  {human_size(node.size)}", style="dim")
    if node.type == "dir":
        text.append(f" ({node.child_count})", style="dim")
    return text


def more_label(more: More) -> Text:
    return Text(f"… {more.remaining:,} more (Enter loads {min(PAGE, more.remaining)})", style="italic dim")


class FileTree(Tree):
    """A Tree with file-manager keys: → expands, ← collapses or goes to the parent."""

    BINDINGS = [
        Binding("right,l", "expand_node", "Expand", show=False),
        Binding("left,h", "collapse_node", "Collapse / parent", show=False),
    ]

    def action_expand_node(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and not node.is_expanded:
            node.expand()
        elif node.children:
            self.move_cursor(node.children[0])

    def action_collapse_node(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded:
            node.collapse()
        elif node.parent is not None and not node.parent.is_root:
            self.move_cursor(node.parent)


class FileTreePane(ImagePane):
    """The file tree of layer ``layer`` (None: the merged image) of the selected image."""

    BINDINGS = [
        Binding("m", "toggle_merged", "Merged/layer"),
        Binding("left_square_bracket", "step_layer(-1)", "Prev layer", key_display="["),
        Binding("right_square_bracket", "step_layer(1)", "Next layer", key_display="]"),
        Binding("plus", "toggle_status('added')", "Show added", key_display="+", show=False),
        Binding("tilde", "toggle_status('modified')", "Show modified", key_display="~", show=False),
        Binding("minus", "toggle_status('removed')", "Show removed", key_display="-", show=False),
        Binding("equals_sign", "toggle_status('unchanged')", "Show unchanged", key_display="=", show=False),
        Binding("a", "toggle_compare", "Compare with layer below / first layer", show=False),
        Binding("o", "toggle_sort", "Sort name/size", show=False),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("x", "extract", "Extract"),
        Binding("y", "copy_path", "Copy path", show=False),
        Binding("C", "collapse_all", "Collapse all", show=False),
    ]

    @dataclass
    class ViewOpened(Message):
        """A new view and its root's first page arrived."""

        generation: int
        view: object
        nodes: list
        count: int
        layer_count: int

    @dataclass
    class ChildrenLoaded(Message):
        """A page of a directory's children arrived."""

        generation: int
        dir_path: str
        offset: int
        nodes: list
        count: int

    @dataclass
    class SearchDone(Message):
        """Paths matching a search."""

        generation: int
        query: str
        nodes: list
        truncated: bool

    @dataclass
    class Revealed(Message):
        """The directories leading to *path*, each with its children up to it."""

        generation: int
        path: str
        chain: list = field(default_factory=list)

    @dataclass
    class OpenFile(Message):
        """Enter on a file: view it."""

        ref: str
        node: object

    @dataclass
    class ExtractRequested(Message):
        """``x`` on a node: copy it out of the image."""

        ref: str
        path: str

    @dataclass
    class LayerChanged(Message):
        """The pane moved to another layer by itself (``[``/``]``/``m``)."""

        layer: int | None

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.layer_index: int | None = None
        self.layer_count = 0
        self.layer_steps: list[str] = []
        self.statuses: set[str] = set(ALL_STATUSES)
        self.compare = "layer"
        self.sort = "name"
        self.view = None
        self._generation = 0
        self._dir_states: dict[str, DirState] = {}
        self._tree_items: dict[str, TreeNode] = {}
        self._pending_reveal: str | None = None
        self._views: OrderedDict = OrderedDict()  # (ref, layer, statuses, compare) -> TreeView; under TREE_LOCK

    def compose(self) -> ComposeResult:
        yield Static("", id="tree-header", markup=False)
        tree: FileTree = FileTree("/", id="file-tree")
        tree.show_root = False
        tree.guide_depth = 2
        yield tree
        yield OptionList(id="search-results")
        yield Static("", id="tree-info", markup=False)
        yield Input(placeholder="search paths (Enter searches, Esc closes)", id="tree-search", compact=True)

    def on_mount(self) -> None:
        self.query_one("#search-results").display = False
        self.query_one("#tree-search").display = False

    # -- what to show ----------------------------------------------------------------

    def show_image_layer(self, ref: str, layer: int | None, count: int, steps: list[str]) -> None:
        """Show layer *layer* of *ref* (one load, however both changed)."""
        self.layer_count = count
        self.layer_steps = steps
        if ref == self.ref and layer == self.layer_index and self._loaded_ref == ref:
            return
        self.ref = ref
        self.layer_index = layer
        self.reload()

    def reveal(self, layer: int | None, path: str) -> None:
        """Show *path* in layer *layer*'s tree, expanding what leads to it."""
        self._pending_reveal = path
        if layer != self.layer_index or self._loaded_ref != self.ref or self.view is None:
            self.layer_index = layer
            self.reload()
        else:
            self._start_reveal(path)

    def load(self, ref: str) -> None:
        self._generation += 1
        self.view = None
        self._reset_tree("loading…")
        self._update_header()
        statuses = None if set(self.statuses) == set(ALL_STATUSES) else set(self.statuses)
        self._open_view(self._generation, ref, self.layer_index, statuses, self.compare, self.sort)

    def clear(self) -> None:
        self._generation += 1
        self.view = None
        self._reset_tree("")
        self.query_one("#tree-header", Static).update("No image selected")

    def _reset_tree(self, placeholder: str) -> None:
        tree = self.query_one(FileTree)
        tree.clear()
        self._dir_states = {"": DirState(loading=True)}
        self._tree_items = {"": tree.root}
        if placeholder:
            tree.root.add_leaf(Text(placeholder, style="italic dim"))
        self._hide_search()

    # -- workers -----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="tree-view", exit_on_error=False)
    def _open_view(self, generation: int, ref: str, layer, statuses, compare: str, sort: str) -> None:
        engine = self.app.engine
        key = (ref, layer, frozenset(statuses or ()), compare)
        try:
            with TREE_LOCK:
                view = self._views.get(key)
                if view is None:
                    view = engine.tree_view(ref, layer=layer, changes=statuses, compare=compare)
                    self._views[key] = view
                    while len(self._views) > VIEW_CACHE:
                        self._views.popitem(last=False)
                else:
                    self._views.move_to_end(key)
                if get_current_worker().is_cancelled:
                    return
                nodes = view.children("", sort=sort, offset=0, limit=PAGE)
                count = view.count("")
                layer_count = view.image.layer_count
        except Exception as exc:
            self.post_message(TaskFailed.of(exc, "opening the file tree", modal=False))
            return
        self.post_message(self.ViewOpened(generation, view, nodes, count, layer_count))

    @work(thread=True, group="tree-children", exit_on_error=False)
    def _load_children(self, generation: int, view, dir_path: str, offset: int, sort: str) -> None:
        try:
            with TREE_LOCK:
                nodes = view.children(dir_path, sort=sort, offset=offset, limit=PAGE)
                count = view.count(dir_path)
        except Exception as exc:
            self.post_message(TaskFailed.of(exc, f"listing /{dir_path}", modal=False))
            return
        self.post_message(self.ChildrenLoaded(generation, dir_path, offset, nodes, count))

    @work(thread=True, exclusive=True, group="tree-search", exit_on_error=False)
    def _search(self, generation: int, view, query: str) -> None:
        worker = get_current_worker()
        needle = query.lower()
        found = []
        try:
            with TREE_LOCK:
                for i, node in enumerate(view.walk()):
                    if i % 4096 == 0 and worker.is_cancelled:
                        return
                    if needle in node.path.lower():
                        found.append(node)
                        if len(found) >= SEARCH_LIMIT:
                            break
        except Exception as exc:
            self.post_message(TaskFailed.of(exc, "searching the tree", modal=False))
            return
        self.post_message(self.SearchDone(generation, query, found, len(found) >= SEARCH_LIMIT))

    @work(thread=True, exclusive=True, group="tree-reveal", exit_on_error=False)
    def _reveal(self, generation: int, view, path: str, sort: str, have: dict[str, int]) -> None:
        """Fetch, for each directory above *path*, its children up to the one on the way."""
        parts = path.split("/")
        chain = []
        try:
            with TREE_LOCK:
                view.node(path)  # NotFound when the path is not in this view
                for depth in range(len(parts)):
                    dir_path = "/".join(parts[:depth])
                    target = "/".join(parts[: depth + 1])
                    nodes: list = []
                    offset = 0
                    while True:
                        page = view.children(dir_path, sort=sort, offset=offset, limit=PAGE)
                        nodes += page
                        offset += len(page)
                        if len(page) < PAGE or any(n.path == target for n in page):
                            break
                    if len(nodes) > have.get(dir_path, 0):
                        chain.append((dir_path, nodes, view.count(dir_path)))
                    else:
                        chain.append((dir_path, None, view.count(dir_path)))
        except Exception as exc:
            self.post_message(TaskFailed.of(exc, f"showing /{path}", modal=False))
            return
        self.post_message(self.Revealed(generation, path, chain))

    # -- results -----------------------------------------------------------------------

    def on_file_tree_pane_view_opened(self, message: ViewOpened) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self.view = message.view
        self.layer_count = message.layer_count
        self._reset_tree("")
        self._add_children("", message.nodes, 0, message.count)
        self._update_header()
        tree = self.query_one(FileTree)
        if tree.root.children:
            tree.move_cursor(tree.root.children[0])
        elif not message.count:
            tree.root.add_leaf(Text("(nothing to show: check the change filters + ~ - =)", style="italic dim"))
        if self._pending_reveal:
            self._start_reveal(self._pending_reveal)

    def on_file_tree_pane_children_loaded(self, message: ChildrenLoaded) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self._add_children(message.dir_path, message.nodes, message.offset, message.count)

    def _add_children(self, dir_path: str, nodes: list, offset: int, count: int) -> None:
        parent = self._tree_items.get(dir_path)
        if parent is None:
            return
        state = self._dir_states.setdefault(dir_path, DirState())
        if offset != state.loaded and not (offset == 0 and state.loading):
            return  # a page we already have
        for child in list(parent.children):
            if isinstance(child.data, More) or child.data is None:
                child.remove()
        for node in nodes:
            if node.type == "dir":
                item = parent.add(node_label(node), data=node, allow_expand=node.child_count > 0)
            else:
                item = parent.add_leaf(node_label(node), data=node)
            self._tree_items[node.path] = item
        state.loaded = offset + len(nodes)
        state.count = count
        state.loading = False
        if state.loaded < count:
            more = More(dir_path, state.loaded, count - state.loaded)
            parent.add_leaf(more_label(more), data=more)

    def _start_reveal(self, path: str) -> None:
        if self.view is None:
            return
        have = {p: s.loaded for p, s in self._dir_states.items()}
        self._reveal(self._generation, self.view, path, self.sort, have)

    def on_file_tree_pane_revealed(self, message: Revealed) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self._pending_reveal = None
        for dir_path, nodes, count in message.chain:
            parent = self._tree_items.get(dir_path)
            if parent is None:
                return
            if nodes is not None:
                state = self._dir_states.get(dir_path)
                if state is not None and state.loaded:
                    for child in list(parent.children):
                        self._forget(child)
                    parent.remove_children()
                self._dir_states[dir_path] = DirState()
                self._add_children(dir_path, nodes, 0, count)
            if parent is not self.query_one(FileTree).root:
                parent.expand()
        target = self._tree_items.get(message.path)
        if target is not None:
            tree = self.query_one(FileTree)
            self._hide_search()
            tree.focus()
            self.call_after_refresh(self._move_to, target)

    def _move_to(self, node: TreeNode) -> None:
        tree = self.query_one(FileTree)
        tree.last_line  # noqa: B018 - lays out the expanded nodes, so the node's line is known
        tree.move_cursor(node)
        tree.scroll_to_node(node, animate=False)

    def _forget(self, item: TreeNode) -> None:
        data = item.data
        if data is not None and not isinstance(data, More):
            self._tree_items.pop(data.path, None)
            self._dir_states.pop(data.path, None)
        for child in item.children:
            self._forget(child)

    # -- tree events -------------------------------------------------------------------

    @on(Tree.NodeExpanded, "#file-tree")
    def _expanded(self, event: Tree.NodeExpanded) -> None:
        event.stop()
        node = event.node.data
        if node is None or isinstance(node, More) or self.view is None:
            return
        state = self._dir_states.get(node.path)
        if state is None:
            self._dir_states[node.path] = DirState(loading=True)
            event.node.add_leaf(Text("loading…", style="italic dim"))
            self._load_children(self._generation, self.view, node.path, 0, self.sort)

    @on(Tree.NodeSelected, "#file-tree")
    def _selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        data = event.node.data
        if isinstance(data, More):
            state = self._dir_states.get(data.dir_path)
            if state is not None and not state.loading:
                state.loading = True
                event.node.set_label(Text("loading…", style="italic dim"))
                self._load_children(self._generation, self.view, data.dir_path, data.offset, self.sort)
        elif data is not None and data.type != "dir" and self.ref is not None:
            if data.status == "removed":
                self.notify(f"/{data.path} was removed in this layer: there is nothing to show",
                            severity="warning")
                return
            self.post_message(self.OpenFile(self.ref, data))

    @on(Tree.NodeHighlighted, "#file-tree")
    def _highlighted(self, event: Tree.NodeHighlighted) -> None:
        event.stop()
        data = event.node.data
        info = self.query_one("#tree-info", Static)
        if data is None or isinstance(data, More):
            info.update("")
            return
        owner = f"{data.uid}:{data.gid}"
        where = f"layer #{data.layer}" if data.layer >= 0 else ""
        verb = {"removed": "removed in", "unchanged": "from"}.get(data.status, f"{data.status} in")
        info.update(f"{mode_string(data.type, data.mode)} {owner:>9} {human_size(data.size):>8}  "
                    f"/{data.path}  ({verb} {where})")

    # -- search ------------------------------------------------------------------------

    def action_search(self) -> None:
        if self.view is None:
            return
        search = self.query_one("#tree-search", Input)
        search.display = True
        search.focus()

    @on(Input.Submitted, "#tree-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        query = event.value.strip().strip("/")
        if query and self.view is not None:
            results = self.query_one("#search-results", OptionList)
            results.clear_options()
            results.add_option(Option(Text("searching…", style="italic dim"), disabled=True))
            results.display = True
            event.input.display = False
            self.query_one(FileTree).display = False
            self._search(self._generation, self.view, query)

    def on_file_tree_pane_search_done(self, message: SearchDone) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        results = self.query_one("#search-results", OptionList)
        results.clear_options()
        if not message.nodes:
            results.add_option(Option(Text(f"no path contains {message.query!r}", style="italic"), disabled=True))
        for node in message.nodes:
            label = Text(STATUS_MARKS.get(node.status, "?") + " ", style=STATUS_STYLES.get(node.status, ""))
            label.append("/" + node.path + ("/" if node.type == "dir" else ""))
            label.append(f"  {human_size(node.size)}", style="dim")
            results.add_option(Option(label, id=node.path))
        more = " (first 1,000)" if message.truncated else ""
        if message.nodes:
            results.highlighted = 0
        results.border_title = f"{len(message.nodes)} matches for {message.query!r}{more} · Enter shows · Esc back"
        results.focus()

    @on(OptionList.OptionSelected, "#search-results")
    def _result_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self._pending_reveal = event.option.id
            self._start_reveal(event.option.id)

    def _hide_search(self) -> None:
        if not self.is_mounted:
            return
        self.query_one("#search-results").display = False
        self.query_one("#tree-search").display = False
        self.query_one(FileTree).display = True

    def on_key(self, event) -> None:
        if event.key != "escape":
            return
        search = self.query_one("#tree-search", Input)
        results = self.query_one("#search-results", OptionList)
        if search.has_focus or results.has_focus:
            event.stop()
            self._hide_search()
            self.query_one(FileTree).focus()

    # -- actions -----------------------------------------------------------------------

    def _cursor_data(self):
        node = self.query_one(FileTree).cursor_node
        data = node.data if node is not None else None
        return None if isinstance(data, More) else data

    def action_toggle_merged(self) -> None:
        if self.layer_index is None:
            self.layer_index = self.layer_count - 1 if self.layer_count else None
        else:
            self.layer_index = None
        self.post_message(self.LayerChanged(self.layer_index))
        self.reload()

    def action_step_layer(self, step: int) -> None:
        if not self.layer_count:
            return
        current = self.layer_index if self.layer_index is not None else self.layer_count - 1
        self.layer_index = max(0, min(self.layer_count - 1, current + step))
        self.post_message(self.LayerChanged(self.layer_index))
        self.reload()

    def action_toggle_status(self, status: str) -> None:
        self.statuses.symmetric_difference_update({status})
        self.reload()

    def action_toggle_compare(self) -> None:
        self.compare = "image" if self.compare == "layer" else "layer"
        self.notify("Statuses compare with the first layer" if self.compare == "image"
                    else "Statuses compare with the layer below", timeout=2)
        self.reload()

    def action_toggle_sort(self) -> None:
        self.sort = "size" if self.sort == "name" else "name"
        self.reload()

    def action_extract(self) -> None:
        data = self._cursor_data()
        if data is not None and self.ref is not None:
            self.post_message(self.ExtractRequested(self.ref, data.path))

    def action_copy_path(self) -> None:
        data = self._cursor_data()
        if data is not None:
            self.app.copy_to_clipboard("/" + data.path)
            self.notify(f"Copied /{data.path}")

    def action_collapse_all(self) -> None:
        tree = self.query_one(FileTree)
        for child in tree.root.children:
            child.collapse_all()

    # -- header ------------------------------------------------------------------------

    def _update_header(self) -> None:
        if self.layer_index is None:
            where = "merged image"
        else:
            step = self.layer_steps[self.layer_index] if self.layer_index < len(self.layer_steps) else ""
            where = f"layer #{self.layer_index} of {self.layer_count or '?'}"
            if step:
                where += f" · {one_line(step, 60)}"
        marks = "".join(FILTER_KEYS[s] if s in self.statuses else "·" for s in ALL_STATUSES)
        compare = "vs first layer" if self.compare == "image" and self.layer_index else ""
        parts = [where, f"show [{marks}]", f"sort: {self.sort}"]
        if compare:
            parts.insert(1, compare)
        if self.view is not None:
            parts.append(human_size(self.view.total_size))
        self.query_one("#tree-header", Static).update(" │ ".join(parts))
