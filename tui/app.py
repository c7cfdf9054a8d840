"""The Strata App: opens the store in a worker, then hands over to the main screen.

The App is thin: it owns the engine and shows errors; screens do the rest.
The engine and the explorer's screens are imported by that worker, not at
the top of this module: the first frame waits for neither (about 0.4 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Label
from textual.worker import Worker, WorkerState

from .commands import StrataCommands
from .messages import TaskFailed
from .screens.error import ErrorModal
from .screens.help import HelpScreen

if TYPE_CHECKING:
    from engine import Engine

#: engine.demo.FIND_BUSYBOX: the demo uses this machine's busybox when there is one.
FIND_BUSYBOX = "find"


@dataclass
class EngineOpened(Message):
    """The store is open and the explorer imported."""

    engine: "Engine"
    main_screen: type
    rows: list | None  # the first listing, made by the same worker (None: it failed)


class StrataApp(App[int]):
    """Explore and manage container images without a daemon."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere find it too
    TITLE = "Strata"
    COMMANDS = App.COMMANDS | {StrataCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+p", "command_palette", "Commands", show=False),
    ]

    def __init__(self, store: Path | None = None, *, store_label: str | None = None,
                 demo_busybox: str | Path | None = FIND_BUSYBOX) -> None:
        super().__init__()
        self.store_path = store
        self.store_label = store_label
        self.demo_busybox = demo_busybox
        self.engine: Engine | None = None

    def compose(self) -> ComposeResult:
        yield Label("Opening the store…", id="opening")

    def on_mount(self) -> None:
        self._open_store()

    @work(thread=True, exit_on_error=False)
    def _open_store(self) -> None:
        try:
            from engine import Engine  # late on purpose: see the module docstring

            from .screens.main import MainScreen

            engine = Engine(self.store_path)
        except Exception as exc:
            self.post_message(TaskFailed.of(exc, "opening the store"))
            return
        try:
            rows = engine.images()
        except Exception:
            rows = None  # the list's own worker tries again and reports it
        self.post_message(EngineOpened(engine, MainScreen, rows))

    def on_engine_opened(self, message: EngineOpened) -> None:
        self.engine = message.engine
        if self.store_label is None:
            self.store_label = _tilde(message.engine.store.root)
        self.sub_title = self.store_label
        self.push_screen(message.main_screen(message.rows))

    def on_task_failed(self, message: TaskFailed) -> None:
        """Every failure ends here: a modal when it stops the user, else a toast."""
        if self.engine is None:
            self.push_screen(ErrorModal(message.title, message.message), lambda _: self.exit(1, return_code=1))
        elif message.modal:
            self.push_screen(ErrorModal(message.title, message.message))
        else:
            self.notify(message.message, title=message.title,
                        severity="warning" if message.title == "Cancelled" else "error")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A safety net: a worker that raised shows its error instead of killing the app."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.on_task_failed(TaskFailed.of(event.worker.error, event.worker.name))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))


def _tilde(path: Path) -> str:
    home = str(Path.home())
    text = str(path)
    return "~" + text[len(home):] if home != "/" and text.startswith(home + "/") else text


def run(store: Path | None = None) -> int:
    """Run the TUI on *store* (default: the user's store) until the user quits."""
    app = StrataApp(store)
    app.run()
    return app.return_code or 0
