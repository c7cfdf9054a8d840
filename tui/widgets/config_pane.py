"""The Config inspector: manifest, config and inspect output as collapsible trees."""

from __future__ import annotations

import json
from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode
from textual.worker import get_current_worker

from ..messages import TaskFailed
from .image_pane import ImagePane

SECTIONS = ("Config", "Manifest", "Inspect")


@dataclass(frozen=True)
class Value:
    """A JSON value at a key path."""

    path: str
    value: object


def scalar(value: object) -> Text:
    if isinstance(value, str):
        return Text(json.dumps(value, ensure_ascii=False), style="green")
    if isinstance(value, bool) or value is None:
        return Text(json.dumps(value), style="italic magenta")
    return Text(str(value), style="cyan")


def add_json(node: TreeNode, value: object, path: str) -> None:
    """Add *value*'s members under *node*; scalars become leaves ``key: value``."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        child_path = f"{path}.{key}" if isinstance(value, dict) else f"{path}[{key}]"
        label = Text(f"{key}" if isinstance(value, dict) else f"[{key}]", style="bold")
        if isinstance(item, (dict, list)):
            size = f" {{{len(item)}}}" if isinstance(item, dict) else f" [{len(item)}]"
            label.append(size, style="dim")
            child = node.add(label, data=Value(child_path, item))
            add_json(child, item, child_path)
        else:
            label.append(": ")
            label.append_text(scalar(item))
            node.add_leaf(label, data=Value(child_path, item))


class ConfigPane(ImagePane):
    """Enter/space folds; ``y`` copies the value under the cursor, ``Y`` its key path."""

    BINDINGS = [
        Binding("y", "copy_value", "Copy value"),
        Binding("Y", "copy_path", "Copy key path", show=False),
        Binding("E", "expand_all", "Expand all", show=False),
    ]

    @dataclass
    class Loaded(Message):
        """The documents of *ref* arrived."""

        ref: str
        documents: dict

    def compose(self) -> ComposeResult:
        tree: Tree = Tree("image", id="config-tree")
        tree.show_root = False
        tree.guide_depth = 2
        yield tree

    def load(self, ref: str) -> None:
        self._load(ref)

    def clear(self) -> None:
        self.query_one(Tree).clear()

    @work(thread=True, exclusive=True, group="config", exit_on_error=False)
    def _load(self, ref: str) -> None:
        engine = self.app.engine
        try:
            image = engine.image(ref)
            documents = {"Config": image.config, "Manifest": image.manifest, "Inspect": engine.inspect(ref)}
        except Exception as exc:
            self.post_message(TaskFailed.of(exc, "reading the image config", modal=False))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(ref, documents))

    def on_config_pane_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.ref != self.ref:
            return
        tree = self.query_one(Tree)
        tree.clear()
        for name in SECTIONS:
            doc = message.documents[name]
            section = tree.root.add(Text(name, style="bold underline"), data=Value(name, doc))
            add_json(section, doc, name)
            if name == "Config":
                section.expand()
                for child in section.children:
                    if child.data is not None and child.data.path == "Config.config":
                        child.expand()
        if tree.root.children:
            tree.move_cursor(tree.root.children[0])

    def _current(self) -> Value | None:
        node = self.query_one(Tree).cursor_node
        return node.data if node is not None else None

    def action_copy_value(self) -> None:
        value = self._current()
        if value is None:
            return
        text = value.value if isinstance(value.value, str) else json.dumps(value.value, indent=2)
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied {value.path}")

    def action_copy_path(self) -> None:
        value = self._current()
        if value is not None:
            self.app.copy_to_clipboard(value.path)
            self.notify(f"Copied {value.path!r}")

    def action_expand_all(self) -> None:
        node = self.query_one(Tree).cursor_node
        if node is not None:
            node.expand_all()
