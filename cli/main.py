"""``strata``: the command line, following the docker CLI's names, flags and output.

``strata`` with no command opens the TUI.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from engine import Engine, StrataError

from . import local

EXIT_USAGE = 125


class Parser(argparse.ArgumentParser):
    """argparse with docker's exit code (125) and message style for usage errors."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: {message}\nSee '{self.prog} --help'.\n")
        sys.exit(EXIT_USAGE)


def build_parser() -> Parser:
    parser = Parser(prog="strata", description="A daemon-less container image workbench.")
    parser.add_argument("--store", metavar="DIR", help="store directory (default: $STRATA_HOME or the user data dir)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    local.register(sub)
    for module in _optional_modules():
        module.register(sub)
    return parser


def _optional_modules():
    """Command groups that live in their own modules."""
    import importlib

    out = []
    for name in ("cli.analysis", "cli.registry", "cli.build", "cli.demo"):
        try:
            out.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    store = Path(args.store).expanduser() if args.store else None
    if args.command is None:
        return _run_tui(store)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.parse_args([args.command, "--help"])
        return EXIT_USAGE
    try:
        engine = Engine(store)
        code = handler(engine, args)
        return 0 if code is None else code
    except StrataError as exc:
        sys.stderr.write(f"Error: {exc.message}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("Error: interrupted\n")
        return 130
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _run_tui(store: Path | None) -> int:
    try:
        from tui.app import run
    except ModuleNotFoundError as exc:
        if exc.name not in ("tui", "tui.app"):
            raise
        sys.stderr.write("The TUI is not installed; run 'strata --help' for the commands.\n")
        return 1
    return run(store) or 0


def entrypoint() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entrypoint()
