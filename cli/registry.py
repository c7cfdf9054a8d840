"""Registry commands: pull, push, login, logout, catalog, tags, manifest inspect.

Pull and push draw the engine's progress events like docker: on a terminal a
live view with one line per layer (rich), otherwise one line per change of a
layer's state.  The engine call runs in a worker thread so that Ctrl-C can
cancel it cleanly (downloads keep their partial files and resume next time).
"""

from __future__ import annotations

import getpass
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Self

from engine import Engine, RegistryError
from engine.events import Event, Progress, Status
from engine.registry.hosts import DOCKER_HUB, normalize_registry

from .output import go_json, human_size

if TYPE_CHECKING:  # rich is imported where it is used: the other commands don't pay for it
    from rich.console import Console, Group
    from rich.live import Live

#: Layer states that carry byte counts and are redrawn rather than printed as lines.
PROGRESS_ACTIONS = ("Downloading", "Pushing", "Compressing", "Indexing")
BAR_WIDTH = 50


def register(sub) -> None:
    """Add the registry commands and the ``manifest`` group."""
    _pull(sub)
    _push(sub)
    _login(sub)
    _logout(sub)
    _catalog(sub)
    _tags(sub)
    manifest = sub.add_parser("manifest", help="Inspect manifests on a registry")
    msub = manifest.add_subparsers(dest="manifest_command", metavar="COMMAND", parser_class=type(manifest))
    _manifest_inspect(msub)


def _insecure_flag(p) -> None:
    p.add_argument("--insecure-registry", action="append", default=[], metavar="HOST",
                   help="Allow plain http and unverified TLS for this registry (repeatable)")


# -- progress display -------------------------------------------------------------------


def _bar(current: int, total: int | None) -> str:
    """Docker's progress bar: ``[=====>      ]  12.3MB/45.6MB``."""
    if not total:
        return human_size(current)
    filled = min(BAR_WIDTH, int(BAR_WIDTH * current / total))
    arrow = ">" if filled < BAR_WIDTH else ""
    bar = "=" * max(0, filled - (1 if arrow and filled else 0)) + (arrow if filled else "")
    return f"[{bar:<{BAR_WIDTH}}] {human_size(current):>8}/{human_size(total)}"


class ProgressView:
    """Turns engine events into docker-like output; thread-safe (events come from workers)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live_mode = console.is_terminal
        self._lock = threading.Lock()
        self._rows: dict[str, tuple[str, int, int | None]] = {}
        self._live: Live | None = None

    def __enter__(self) -> Self:
        if self.live_mode:
            self._start_live()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.update(self._render())
            self._live.stop()
            self._live = None

    def _start_live(self) -> None:
        from rich.live import Live

        self._live = Live(self._render(), console=self.console, auto_refresh=True,
                          refresh_per_second=8, transient=False)
        self._live.start()

    def __call__(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, Status):
                self._status(event.text)
            elif isinstance(event, Progress) and event.item != "total":
                self._progress(event)

    def _status(self, text: str) -> None:
        if self._live is not None and self._rows:
            # The layers are done (``Digest:`` follows them): leave them on screen as they
            # are and start a new block below for the next image, if any.
            self._live.update(self._render())
            self._live.stop()
            self._rows = {}
            self._start_live()
        self.console.print(text, highlight=False, markup=False, soft_wrap=True)

    def _progress(self, event: Progress) -> None:
        previous = self._rows.get(event.item)
        self._rows[event.item] = (event.action, event.current, event.total)
        if self._live is not None:
            self._live.update(self._render())
        elif event.action not in PROGRESS_ACTIONS and (previous is None or previous[0] != event.action):
            self.console.print(f"{event.item}: {event.action}", highlight=False, markup=False)

    def _render(self) -> Group:
        from rich.console import Group
        from rich.text import Text

        lines = []
        for item, (action, current, total) in self._rows.items():
            line = f"{item}: {action}"
            if action in PROGRESS_ACTIONS:
                line += " " + _bar(current, total)
            lines.append(Text(line))
        return Group(*lines)


def run_cancellable(call: Callable[[threading.Event], object]) -> object:
    """Run ``call(cancel)`` in a thread; Ctrl-C sets *cancel* and waits for it to stop."""
    cancel = threading.Event()
    box: dict = {}

    def target() -> None:
        try:
            box["result"] = call(cancel)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="strata-cli", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        cancel.set()
        worker.join()
        raise
    if "error" in box:
        raise box["error"]
    return box.get("result")


# -- pull / push ------------------------------------------------------------------------------


def _pull(sub) -> None:
    p = sub.add_parser("pull", help="Download an image from a registry",
                       description="Pull an image (or every tag of a repository) into the store.")
    p.add_argument("name", metavar="NAME[:TAG|@DIGEST]")
    p.add_argument("-a", "--all-tags", action="store_true", help="Download all tagged images in the repository")
    p.add_argument("--platform", metavar="OS/ARCH[/VARIANT]", help="Pick this platform from a multi-platform image")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress verbose output")
    p.add_argument("--max-concurrent-downloads", type=int, default=3, metavar="N",
                   help="Layers downloaded at once (default 3)")
    _insecure_flag(p)
    p.set_defaults(handler=cmd_pull)


def cmd_pull(engine: Engine, args) -> int:
    from rich.console import Console

    console = Console(file=sys.stdout, highlight=False)
    view = None if args.quiet else ProgressView(console)

    def call(cancel: threading.Event):
        return engine.pull(args.name, platform=args.platform, all_tags=args.all_tags, progress=view,
                           max_concurrent=args.max_concurrent_downloads,
                           insecure=args.insecure_registry, cancel=cancel)

    if view is None:
        result = run_cancellable(call)
    else:
        with view:
            result = run_cancellable(call)
    results = result if isinstance(result, list) else [result]
    if args.all_tags:
        print(results[0].reference.name if results else args.name)
    else:
        for item in results:
            print(item.reference)
    return 0


def _push(sub) -> None:
    p = sub.add_parser("push", help="Upload an image to a registry",
                       description="Push an image (or every tag of a repository) to a registry.")
    p.add_argument("name", metavar="NAME[:TAG]")
    p.add_argument("-a", "--all-tags", action="store_true", help="Push all tags of the repository")
    p.add_argument("--compression", choices=["gzip", "zstd"], default="gzip",
                   help="Compression for layers stored uncompressed (default gzip)")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress verbose output")
    p.add_argument("--max-concurrent-uploads", type=int, default=3, metavar="N",
                   help="Layers uploaded at once (default 3)")
    _insecure_flag(p)
    p.set_defaults(handler=cmd_push)


def cmd_push(engine: Engine, args) -> int:
    from rich.console import Console

    console = Console(file=sys.stdout, highlight=False)
    view = None if args.quiet else ProgressView(console)

    def call(cancel: threading.Event):
        return engine.push(args.name, all_tags=args.all_tags, compression=args.compression, progress=view,
                           insecure=args.insecure_registry, cancel=cancel,
                           max_concurrent=args.max_concurrent_uploads)

    if view is None:
        result = run_cancellable(call)
        for item in result if isinstance(result, list) else [result]:
            print(item.reference)
    else:
        with view:
            run_cancellable(call)
    return 0


# -- login / logout ---------------------------------------------------------------------------


def _login(sub) -> None:
    p = sub.add_parser("login", help="Log in to a registry",
                       description="Check credentials against a registry and store them in config.json "
                                   "(or its credential helper).")
    p.add_argument("registry", nargs="?", metavar="SERVER")
    p.add_argument("-u", "--username", help="Username")
    p.add_argument("-p", "--password", help="Password (insecure: prefer --password-stdin)")
    p.add_argument("--password-stdin", action="store_true", help="Take the password from stdin")
    _insecure_flag(p)
    p.set_defaults(handler=cmd_login)


def _read_password(args) -> str:
    if args.password_stdin:
        if args.password:
            raise RegistryError("--password and --password-stdin are mutually exclusive")
        if not args.username:
            raise RegistryError("Must provide --username with --password-stdin")
        return sys.stdin.read().rstrip("\r\n")
    if args.password:
        sys.stderr.write("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n")
        return args.password
    if not sys.stdin.isatty():
        raise RegistryError("Cannot perform an interactive login from a non TTY device: use --password-stdin")
    return getpass.getpass("Password: ")


def cmd_login(engine: Engine, args) -> int:
    username = args.username
    if not username:
        if args.password_stdin or not sys.stdin.isatty():
            raise RegistryError("Must provide --username with --password-stdin" if args.password_stdin else
                                "Cannot perform an interactive login from a non TTY device: use -u and --password-stdin")
        username = input("Username: ").strip()
    args.username = username
    password = _read_password(args)
    where = engine.login(args.registry, username, password, insecure=args.insecure_registry)
    if not where.startswith("docker-credential-"):
        sys.stderr.write(
            f"WARNING! Your password will be stored unencrypted in {where}.\n"
            "Configure a credential helper to remove this warning. See\n"
            "https://docs.docker.com/engine/reference/commandline/login/#credential-stores\n\n")
    print("Login Succeeded")
    return 0


def _logout(sub) -> None:
    p = sub.add_parser("logout", help="Log out from a registry")
    p.add_argument("registry", nargs="?", metavar="SERVER")
    p.set_defaults(handler=cmd_logout)


def cmd_logout(engine: Engine, args) -> int:
    shown = normalize_registry(args.registry or DOCKER_HUB)
    if engine.logout(args.registry):
        print(f"Removing login credentials for {shown}")
    else:
        print(f"Not logged in to {shown}")
    return 0


# -- browsing ------------------------------------------------------------------------------------


def _catalog(sub) -> None:
    p = sub.add_parser("catalog", help="List the repositories of a registry")
    p.add_argument("registry", metavar="REGISTRY")
    p.add_argument("-n", type=int, metavar="N", help="Page size of the requests (all pages are listed)")
    _insecure_flag(p)
    p.set_defaults(handler=cmd_catalog)


def cmd_catalog(engine: Engine, args) -> int:
    for name in engine.catalog(args.registry, n=args.n, insecure=args.insecure_registry):
        print(name)
    return 0


def _tags(sub) -> None:
    p = sub.add_parser("tags", help="List the tags of a repository on a registry")
    p.add_argument("name", metavar="NAME")
    p.add_argument("-n", type=int, metavar="N", help="Page size of the requests (all pages are listed)")
    _insecure_flag(p)
    p.set_defaults(handler=cmd_tags)


def cmd_tags(engine: Engine, args) -> int:
    for tag in engine.tags(args.name, n=args.n, insecure=args.insecure_registry):
        print(tag)
    return 0


def _manifest_inspect(sub) -> None:
    p = sub.add_parser("inspect", help="Show a manifest or index on a registry, without pulling")
    p.add_argument("name", metavar="NAME[:TAG|@DIGEST]")
    p.add_argument("--raw", action="store_true", help="Print the manifest exactly as the registry serves it")
    p.add_argument("--insecure", action="store_true", help="Allow plain http and unverified TLS")
    _insecure_flag(p)
    p.set_defaults(handler=cmd_manifest_inspect)


def cmd_manifest_inspect(engine: Engine, args) -> int:
    insecure = True if args.insecure else args.insecure_registry
    result = engine.manifest_inspect(args.name, raw=args.raw, insecure=insecure)
    if isinstance(result, bytes):
        sys.stdout.flush()
        sys.stdout.buffer.write(result)
        if not result.endswith(b"\n"):
            sys.stdout.buffer.write(b"\n")
        sys.stdout.buffer.flush()
    else:
        print(go_json(result, indent=4))
    return 0


__all__ = ["ProgressView", "register", "run_cancellable"]
