"""``strata demo``: load a few sample images made locally (no network)."""

from __future__ import annotations

import sys

from engine import Engine
from engine.demo import FIND_BUSYBOX, create_demo_images
from engine.events import Status


def register(sub) -> None:
    p = sub.add_parser("demo", help="Create sample images to explore (no network needed)",
                       description="Load demo/webapp, demo/tools and a dangling image into the store, "
                                   "generated locally (with this machine's busybox when there is one).")
    p.add_argument("--no-busybox", action="store_true",
                   help="Use a synthetic stand-in instead of /bin/busybox (reproducible image IDs)")
    p.add_argument("-q", "--quiet", action="store_true", help="Print nothing")
    p.set_defaults(handler=cmd_demo)


def cmd_demo(engine: Engine, args) -> int:
    def on_event(event) -> None:
        if isinstance(event, Status) and event.text.startswith("Loaded image") and not args.quiet:
            sys.stdout.write(event.text + "\n")

    create_demo_images(engine, busybox=None if args.no_busybox else FIND_BUSYBOX, progress=on_event)
    if not args.quiet:
        sys.stdout.write("Run 'strata' to explore them.\n")
    return 0
