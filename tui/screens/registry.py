"""The registry browser: a registry's catalog, a repository's tags, a tag's remote manifest."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Checkbox, Input, Label, OptionList, Tree
from textual.worker import get_current_worker

from ..history import read_history, remember
from ..messages import TaskFailed
from ..widgets.config_pane import Value, add_json
from ..widgets.key_bar import KeyBar


class RegistryScreen(Screen[str | None]):
    """Dismisses with a reference to pull (``p``), or None."""

    CSS_PATH = "registry.tcss"
    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("p", "pull", "Pull tag"),
        Binding("r", "reload", "Reload", show=False),
    ]

    @dataclass
    class Repositories(Message):
        """A registry's catalog."""

        registry: str
        names: list[str]

    @dataclass
    class Tags(Message):
        """A repository's tags."""

        repository: str
        tags: list[str]

    @dataclass
    class Inspected(Message):
        """A remote manifest's summary."""

        reference: str
        summary: dict

    def __init__(self) -> None:
        super().__init__()
        self.registry = ""
        self.repository = ""
        self.tag = ""

    def compose(self) -> ComposeResult:
        yield Label("Registry browser", id="registry-title")
        with Horizontal(id="registry-bar"):
            yield Input(placeholder="registry (localhost:5000) or registry/repository, Enter browses",
                        id="registry", compact=True)
            yield Checkbox("insecure", id="insecure", compact=True)
        with Horizontal(id="registry-columns"):
            with Vertical(classes="column"):
                yield Label("Repositories", classes="column-title")
                yield OptionList(id="repositories")
            with Vertical(classes="column"):
                yield Label("Tags", classes="column-title")
                yield OptionList(id="tags")
            with Vertical(classes="column details"):
                yield Label("Remote manifest", classes="column-title")
                tree: Tree = Tree("manifest", id="remote")
                tree.show_root = False
                yield tree
        yield KeyBar()

    def on_mount(self) -> None:
        field = self.query_one("#registry", Input)
        history = read_history("registry")
        if history:
            field.value = history[0]
        field.focus()

    def _insecure(self) -> bool:
        return self.query_one("#insecure", Checkbox).value

    @on(Input.Submitted, "#registry")
    def _browse(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip().rstrip("/")
        if not text:
            return
        remember("registry", text)
        host, _, repo = text.partition("/")
        self.registry = host
        self.query_one("#repositories", OptionList).clear_options()
        self.query_one("#tags", OptionList).clear_options()
        self.query_one("#remote", Tree).clear()
        if repo:
            self.query_one("#repositories", OptionList).add_option(repo)
            self._open_repository(repo)
        else:
            self._catalog(host, self._insecure())

    def action_reload(self) -> None:
        if self.registry:
            self._catalog(self.registry, self._insecure())

    @work(thread=True, exclusive=True, group="catalog", exit_on_error=False)
    def _catalog(self, registry: str, insecure: bool) -> None:
        try:
            names = self.app.engine.catalog(registry, insecure=insecure)
        except Exception as exc:
            self.post_message(TaskFailed.of(exc, f"listing {registry}", modal=False))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Repositories(registry, names))

    def on_registry_screen_repositories(self, message: Repositories) -> None:
        repos = self.query_one("#repositories", OptionList)
        repos.clear_options()
        repos.add_options(message.names or ["(no repositories)"])
        repos.focus()

    @on(OptionList.OptionSelected, "#repositories")
    def _repository_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._open_repository(str(event.option.prompt))

    def _open_repository(self, repo: str) -> None:
        self.repository = repo
        self.query_one("#tags", OptionList).clear_options()
        self._tags(f"{self.registry}/{repo}", self._insecure())

    @work(thread=True, exclusive=True, group="tags", exit_on_error=False)
    def _tags(self, repository: str, insecure: bool) -> None:
        try:
            tags = self.app.engine.tags(repository, insecure=insecure)
        except Exception as exc:
            self.post_message(TaskFailed.of(exc, f"listing the tags of {repository}", modal=False))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Tags(repository, tags))

    def on_registry_screen_tags(self, message: Tags) -> None:
        tags = self.query_one("#tags", OptionList)
        tags.clear_options()
        tags.add_options(message.tags or ["(no tags)"])
        tags.focus()

    @on(OptionList.OptionSelected, "#tags")
    def _tag_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.tag = str(event.option.prompt)
        self._inspect(self._reference(), self._insecure())

    def _reference(self) -> str:
        return f"{self.registry}/{self.repository}:{self.tag}"

    @work(thread=True, exclusive=True, group="inspect", exit_on_error=False)
    def _inspect(self, reference: str, insecure: bool) -> None:
        try:
            summary = self.app.engine.manifest_inspect(reference, insecure=insecure)
        except Exception as exc:
            self.post_message(TaskFailed.of(exc, f"inspecting {reference}", modal=False))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Inspected(reference, summary))

    def on_registry_screen_inspected(self, message: Inspected) -> None:
        tree = self.query_one("#remote", Tree)
        tree.clear()
        add_json(tree.root, message.summary, "remote")
        for child in tree.root.children:
            if isinstance(child.data, Value) and child.data.path in ("remote.Descriptor", "remote.Config"):
                child.expand()

    def action_pull(self) -> None:
        if self.repository and self.tag:
            self.dismiss(self._reference())
        else:
            self.notify("Choose a tag first", severity="warning")

    def action_close(self) -> None:
        self.dismiss(None)
