"""The main screen: the image list, the panes of the selected image, and every action.

The screen coordinates: widgets post what happened (a row highlighted, a
layer chosen, a file opened) and the screen tells the other widgets, opens
dialogs, and refreshes the list when a dialog changed the store.

Dialog modules are imported where they are opened, not at the top: together
they take ~0.2 s to import, which the image list should not wait for.
:meth:`MainScreen._prefetch` imports them in a worker once the list is up.
"""

from __future__ import annotations

import gc
import importlib

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, TabbedContent, TabPane

from engine.listing import ImageRow

from ..widgets.config_pane import ConfigPane
from ..widgets.efficiency_pane import EfficiencyPane
from ..widgets.file_tree import FileTree, FileTreePane
from ..widgets.history_pane import HistoryPane
from ..widgets.image_list import ImageList, row_name
from ..widgets.image_pane import ImagePane
from ..widgets.layers_pane import LayersPane
from ..widgets.key_bar import KeyBar
from .help import binding_rows

DIALOG_MODULES = ("tag", "remove", "prune", "save", "load", "pull", "push", "login", "registry", "build",
                  "compare", "extract", "file_viewer", "text_modal")
TABS = (("layers", "Layers"), ("tree", "Tree"), ("history", "History"), ("config", "Config"),
        ("efficiency", "Efficiency"))
WIDE = 140  # columns from which the list and the panes sit side by side
SELECTION_DELAY = 0.08  # seconds the cursor must rest before the panes load


class PaneTabs(Container):
    """The tabs of the selected image's panes."""

    DEFAULT_CSS = "PaneTabs { height: 1fr; }"

    def compose(self) -> ComposeResult:
        with TabbedContent(id="panes", initial="layers"):
            with TabPane("Layers", id="layers"):
                yield LayersPane(id="layers-pane")
            with TabPane("Tree", id="tree"):
                yield FileTreePane(id="tree-pane")
            with TabPane("History", id="history"):
                yield HistoryPane(id="history-pane")
            with TabPane("Config", id="config"):
                yield ConfigPane(id="config-pane")
            with TabPane("Efficiency", id="efficiency"):
                yield EfficiencyPane(id="efficiency-pane")


class MainScreen(Screen):
    """Images on the left (or top), the selected image's panes beside (or below)."""

    CSS_PATH = "main.tcss"
    BINDINGS = [
        Binding("t", "tag", "Tag"),
        Binding("d", "remove", "Remove"),
        Binding("p", "prune", "Prune"),
        Binding("s", "save", "Save", show=False),
        Binding("l", "load", "Load", show=False),
        Binding("i", "import_rootfs", "Import rootfs", show=False),
        Binding("P", "pull", "Pull"),
        Binding("U", "push", "Push", show=False),
        Binding("L", "login", "Login", show=False),
        Binding("R", "registry", "Registry browser", show=False),
        Binding("B", "build", "Build", show=False),
        Binding("c", "compare", "Compare", show=False),
        Binding("r", "refresh", "Refresh", show=False),
        Binding("z", "zoom", "Zoom pane", show=False),
        Binding("1", "show_tab('layers')", "Layers tab", show=False),
        Binding("2", "show_tab('tree')", "Tree tab", show=False),
        Binding("3", "show_tab('history')", "History tab", show=False),
        Binding("4", "show_tab('config')", "Config tab", show=False),
        Binding("5", "show_tab('efficiency')", "Efficiency tab", show=False),
        Binding("escape", "clear_compare", "Forget compare base", show=False),
    ]

    def __init__(self, rows: list[ImageRow] | None = None) -> None:
        super().__init__()
        self._initial_rows = rows
        self.selected: ImageRow | None = None
        self.compare_base: ImageRow | None = None
        self._pending: ImageRow | None = None
        self._timer: Timer | None = None
        self._first_listing = True
        self.panes_ready = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Container(id="body"):
            yield ImageList(self._initial_rows, id="images")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(ImageList).focus_table()

    async def _mount_panes(self) -> None:
        """The panes come once the list is on screen: the first frame with images waits only for the list."""
        if self.panes_ready or self.query(PaneTabs):
            return
        await self.query_one("#body").mount(PaneTabs())
        # Start-up is over: what exists now (modules, styles, the screen) lives as long as the app.
        # Out of the cyclic GC's way, a full collection later no longer stalls the UI for it (~90 ms).
        gc.freeze()
        self.panes_ready = True
        self.query_one(LayersPane).activate()  # the layers drive the tree: always loaded
        self._apply_selection()

    def on_unmount(self) -> None:
        gc.unfreeze()  # the app is closing: give its objects back to the collector

    def on_resize(self, event) -> None:
        self.set_class(event.size.width >= WIDE, "-wide")

    # -- panes -----------------------------------------------------------------------

    def _panes(self) -> dict[str, ImagePane]:
        if not self.panes_ready:
            return {}
        return {tab: self.query_one(f"#{tab}-pane", ImagePane) for tab, _ in TABS}

    @on(TabbedContent.TabActivated, "#panes")
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        active = event.pane.id
        for tab, pane in self._panes().items():
            if tab != "layers":
                pane.activate(tab == active)

    def on_image_list_loaded(self, message: ImageList.Loaded) -> None:
        if self._first_listing:
            self._first_listing = False
            self.call_after_refresh(self._mount_panes)
            self._prefetch()
            if not message.rows:
                from .first_run import FirstRunScreen  # late: see the module docstring

                self.app.push_screen(FirstRunScreen(), self._first_run_done)

    @work(thread=True, group="prefetch", exit_on_error=False)
    def _prefetch(self) -> None:
        """Import the dialogs in the background, so the first one opens at once."""
        for module in DIALOG_MODULES:
            importlib.import_module(f".{module}", __package__)

    def on_image_list_highlighted(self, message: ImageList.Highlighted) -> None:
        self._pending = message.row
        if self._timer is not None:
            self._timer.stop()
        if self.selected is None or message.row is None:
            self._apply_selection()
        else:
            self._timer = self.set_timer(SELECTION_DELAY, self._apply_selection)

    def _apply_selection(self) -> None:
        self._timer = None
        row = self._pending
        self.selected = row
        ref = row.id if row is not None else None
        for tab, pane in self._panes().items():
            if tab != "tree":
                pane.show_image(ref)
        if ref is None and self.panes_ready:
            self.query_one(FileTreePane).show_image(None)

    def on_image_list_chosen(self, message: ImageList.Chosen) -> None:
        self._focus_pane()

    def on_layers_pane_layer_highlighted(self, message: LayersPane.LayerHighlighted) -> None:
        steps = [info.created_by for info in self.query_one(LayersPane).infos]
        self.query_one(FileTreePane).show_image_layer(message.ref, message.index, message.count, steps)

    def on_layers_pane_layer_chosen(self, message: LayersPane.LayerChosen) -> None:
        self.action_show_tab("tree")
        self.query_one(FileTree).focus()

    def on_file_tree_pane_layer_changed(self, message: FileTreePane.LayerChanged) -> None:
        if message.layer is not None:
            self.query_one(LayersPane).select_layer(message.layer)

    def on_efficiency_pane_show_in_tree(self, message: EfficiencyPane.ShowInTree) -> None:
        self.action_show_tab("tree")
        self.query_one(LayersPane).select_layer(message.layer)
        self.query_one(FileTreePane).reveal(message.layer, message.path)

    def on_file_tree_pane_open_file(self, message: FileTreePane.OpenFile) -> None:
        from .file_viewer import FileViewerScreen  # late: see the module docstring

        self.app.push_screen(FileViewerScreen(message.ref, message.node, self._label(message.ref)))

    def on_file_tree_pane_extract_requested(self, message: FileTreePane.ExtractRequested) -> None:
        from .extract import ExtractDialog  # late: see the module docstring

        self.app.push_screen(ExtractDialog(message.ref, message.path))

    def on_history_pane_show_command(self, message: HistoryPane.ShowCommand) -> None:
        from .text_modal import TextModal  # late: see the module docstring

        self.app.push_screen(TextModal(message.title, message.command))

    def _label(self, ref: str) -> str:
        row = self.selected
        return row_name(row) if row is not None and row.id == ref else ref[7:19]

    def _focus_pane(self) -> None:
        if not self.panes_ready:
            return
        tabs = self.query_one(TabbedContent)
        pane = self.query_one(f"#{tabs.active}-pane")
        targets = pane.query("DataTable, Tree")
        if targets:
            targets.first().focus()

    # -- store changes -------------------------------------------------------------------

    def _store_changed(self, changed: object = True) -> None:
        """A dialog finished: list the store again."""
        if changed:
            self.query_one(ImageList).reload()
            for pane in self.query(ConfigPane):
                pane.reload()

    def _first_run_done(self, result: str | None) -> None:
        self._store_changed()
        follow_up = {"load": self.action_load, "pull": self.action_pull, "build": self.action_build}
        if result in follow_up:
            follow_up[result]()

    # -- actions ---------------------------------------------------------------------------

    def _need_selection(self) -> ImageRow | None:
        row = self.query_one(ImageList).current_row
        if row is None:
            self.notify("No image selected", severity="warning")
        return row

    def action_tag(self) -> None:
        row = self._need_selection()
        if row is not None:
            from .tag import TagDialog  # late: see the module docstring

            self.app.push_screen(TagDialog(row), self._store_changed)

    def action_remove(self) -> None:
        image_list = self.query_one(ImageList)
        rows = image_list.selected_rows()
        if not rows:
            self.notify("No image selected", severity="warning")
            return
        from .remove import RemoveDialog  # late: see the module docstring

        self.app.push_screen(RemoveDialog(rows, image_list.rows), self._after_remove)

    def _after_remove(self, changed: object) -> None:
        if changed:
            self.query_one(ImageList).marked.clear()
        self._store_changed(changed)

    def action_prune(self) -> None:
        from .prune import PruneDialog  # late: see the module docstring

        self.app.push_screen(PruneDialog(), self._store_changed)

    def action_save(self) -> None:
        image_list = self.query_one(ImageList)
        names = [row_name(r) for r in image_list.selected_rows()]
        all_names = [row_name(r) for r in image_list.rows]
        from .save import SaveDialog  # late: see the module docstring

        self.app.push_screen(SaveDialog(names, all_names))

    def action_load(self) -> None:
        from .load import LoadDialog  # late: see the module docstring

        self.app.push_screen(LoadDialog("load"), self._store_changed)

    def action_import_rootfs(self) -> None:
        from .load import LoadDialog  # late: see the module docstring

        self.app.push_screen(LoadDialog("import"), self._store_changed)

    def action_pull(self, reference: str = "") -> None:
        from .pull import PullDialog  # late: see the module docstring

        self.app.push_screen(PullDialog(reference), self._store_changed)

    def action_push(self) -> None:
        row = self.query_one(ImageList).current_row
        from .push import PushDialog  # late: see the module docstring

        self.app.push_screen(PushDialog(row_name(row) if row is not None and row.tag != "<none>" else ""))

    def action_login(self) -> None:
        from .login import LoginDialog  # late: see the module docstring

        self.app.push_screen(LoginDialog())

    def action_registry(self) -> None:
        from .registry import RegistryScreen  # late: see the module docstring

        self.app.push_screen(RegistryScreen(), self._after_registry)

    def _after_registry(self, reference: str | None) -> None:
        if reference:
            self.action_pull(reference)

    def action_build(self) -> None:
        from .build import BuildDialog  # late: see the module docstring

        self.app.push_screen(BuildDialog(), self._store_changed)

    def action_compare(self) -> None:
        row = self._need_selection()
        if row is None:
            return
        base = self.compare_base
        if base is None or base.id == row.id:
            self.compare_base = row
            self.sub_title = f"compare from {row_name(base or row)}"
            self.notify(f"Comparing from {row_name(row)}: choose another image and press c "
                        "(Esc forgets)", timeout=4)
            return
        self.compare_base = None
        self.sub_title = ""
        from .compare import CompareScreen  # late: see the module docstring

        self.app.push_screen(CompareScreen(base.id, row_name(base), row.id, row_name(row)))

    def action_clear_compare(self) -> None:
        if self.compare_base is not None:
            self.compare_base = None
            self.sub_title = ""
            self.notify("Compare base forgotten", timeout=2)

    def action_refresh(self) -> None:
        self.query_one(ImageList).reload()
        for pane in self._panes().values():
            pane.reload()

    def action_show_tab(self, tab: str) -> None:
        if self.panes_ready:
            self.query_one(TabbedContent).active = tab

    def action_zoom(self) -> None:
        if self.maximized is not None:
            self.minimize()
            return
        focused = self.focused
        image_list = self.query_one(ImageList)
        in_list = focused is not None and image_list in focused.ancestors_with_self
        target = image_list if in_list or not self.panes_ready else self.query_one(TabbedContent)
        self.maximize(target, container=False)

    # -- help and the command palette -------------------------------------------------------

    def help_sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        return [
            ("Everywhere", binding_rows(type(self.app).BINDINGS) + [("Tab", "Next pane"), ("Esc", "Back / close / cancel")]),
            ("Images (list)", binding_rows(ImageList.BINDINGS) + [("Enter", "Open the panes"),
                                                                 ("click header", "Sort by that column")]),
            ("Actions on the selected or marked images", binding_rows(MainScreen.BINDINGS)),
            ("Layers", [("↑ ↓", "Choose the layer the tree shows"), ("Enter", "Open its tree")]
             + binding_rows(LayersPane.BINDINGS)),
            ("Layer tree", [("Enter", "Expand / view a file"), ("→ ←", "Expand / collapse or parent"),
                            ("space", "Toggle a directory")]
             + binding_rows(FileTreePane.BINDINGS)),
            ("History", binding_rows(HistoryPane.BINDINGS)),
            ("Config", binding_rows(ConfigPane.BINDINGS)),
            ("Efficiency", [("Enter", "Show the wasted file in its layer's tree")]),
        ]

    def palette_commands(self) -> list[tuple[str, str, str]]:
        return [
            ("Tag image", "Give the selected image another name", "tag"),
            ("Remove images", "Untag / delete the marked or selected images", "remove"),
            ("Prune images", "Preview and remove dangling (or all unused) images", "prune"),
            ("Save images", "Write images to a docker or OCI archive, or export a rootfs", "save"),
            ("Load archive", "Load a docker-archive or OCI archive/layout", "load"),
            ("Import rootfs", "Make a one-layer image from a rootfs tarball", "import_rootfs"),
            ("Pull image", "Pull from a registry with per-layer progress", "pull"),
            ("Push image", "Push the selected image to a registry", "push"),
            ("Log in to a registry", "Store credentials for a registry", "login"),
            ("Browse a registry", "Catalog, tags and remote inspect", "registry"),
            ("Build image", "Build a Dockerfile with a live log", "build"),
            ("Compare images", "Mark the selected image, then choose another", "compare"),
            ("Refresh", "List the store again", "refresh"),
            ("Show layers", "The Layers tab", "show_tab('layers')"),
            ("Show layer tree", "The Tree tab", "show_tab('tree')"),
            ("Show history", "The History tab", "show_tab('history')"),
            ("Show config", "The Config inspector", "show_tab('config')"),
            ("Show efficiency", "Wasted space analysis", "show_tab('efficiency')"),
        ]
