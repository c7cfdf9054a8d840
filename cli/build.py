"""``strata build``: a Dockerfile and a context into an image, with BuildKit's plain progress."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from engine import Engine, StrataError
from engine.events import Status

if TYPE_CHECKING:  # the Dockerfile parser is imported in cmd_build: other commands don't pay for it
    from engine.build.errors import BuildError

_ARCHIVE_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")


def register(sub) -> None:
    _build(sub, "build")
    builder = sub.add_parser("builder", help="Manage builds")
    bsub = builder.add_subparsers(dest="builder_command", metavar="COMMAND", parser_class=type(builder))
    _build(bsub, "build")


def _build(sub, name: str) -> None:
    p = sub.add_parser(name, help="Build an image from a Dockerfile",
                       description="Build an image from a Dockerfile, without a daemon.")
    p.add_argument("context", metavar="PATH|-", help="build context directory, or - for stdin "
                   "(a Dockerfile, or a tar of the context)")
    p.add_argument("-t", "--tag", action="append", default=[], metavar="NAME[:TAG]",
                   help="Name and optionally a tag (format: name:tag)")
    p.add_argument("-f", "--file", metavar="FILE", help="Name of the Dockerfile (default: PATH/Dockerfile)")
    p.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="Set build-time variables")
    p.add_argument("--target", metavar="STAGE", help="Set the target build stage to build")
    p.add_argument("--no-cache", action="store_true", help="Do not use cache when building the image")
    p.add_argument("--platform", metavar="OS/ARCH", help="Set the target platform for the build")
    p.add_argument("--progress", choices=("auto", "plain", "tty", "quiet"), default="auto",
                   help="Type of progress output (auto, plain, tty, quiet)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="Suppress the build output and print image ID on success")
    p.add_argument("--iidfile", metavar="FILE", help="Write the image ID to the file")
    p.add_argument("--label", action="append", default=[], metavar="KEY=VALUE",
                   help="Set metadata for an image")
    p.set_defaults(handler=cmd_build)


def _pairs(items: list[str], what: str, from_env: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not key:
            raise StrataError(f"invalid {what} {item!r}: expected KEY=VALUE")
        if not sep:
            if from_env:
                if key in os.environ:
                    out[key] = os.environ[key]
                continue
        out[key] = value
    return out


class _Printer:
    """Prints BuildKit plain progress lines to stderr."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, event) -> None:
        if isinstance(event, Status) and not self.quiet:
            sys.stderr.write(event.text + "\n")
            sys.stderr.flush()


def _stdin_context(engine: Engine, args) -> tuple[Path | None, str | None, Path | None]:
    """For ``-``: a tar context (written to a temp file) or a Dockerfile's text."""
    data = sys.stdin.buffer.read()
    looks_tar = data.startswith(_ARCHIVE_MAGIC) or (len(data) >= 512 and data[257:262] == b"ustar")
    if looks_tar:
        fd, name = tempfile.mkstemp(prefix="context-", suffix=".tar", dir=engine.store.blobs.tmp_dir)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return Path(name), None, Path(name)
    return None, data.decode("utf-8", "surrogateescape"), None


def cmd_build(engine: Engine, args) -> int:
    from engine.build.errors import BuildError
    from engine.dockerfile import DockerfileParseError

    build_args = _pairs(args.build_arg, "build-arg", from_env=True)
    if "SOURCE_DATE_EPOCH" not in build_args and os.environ.get("SOURCE_DATE_EPOCH"):
        build_args["SOURCE_DATE_EPOCH"] = os.environ["SOURCE_DATE_EPOCH"]
    labels = _pairs(args.label, "label", from_env=False)
    quiet = args.quiet or args.progress == "quiet"
    printer = _Printer(quiet)
    temp = None
    dockerfile_text = None
    context: Path | None
    if args.context == "-":
        context, dockerfile_text, temp = _stdin_context(engine, args)
    else:
        context = Path(args.context)
        if args.file == "-":
            dockerfile_text = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
    dockerfile = None if args.file in (None, "-") else args.file
    try:
        result = engine.build(context, dockerfile=dockerfile, dockerfile_text=dockerfile_text,
                              tags=args.tag, build_args=build_args, target=args.target,
                              no_cache=args.no_cache, platform=args.platform, labels=labels,
                              progress=printer)
    except BuildError as exc:
        _print_failure(exc, printer)
        return 1
    except DockerfileParseError as exc:
        sys.stderr.write(exc.detail().replace("ERROR: ", "ERROR: failed to solve: ", 1) + "\n"
                         if exc.line else f"ERROR: failed to solve: {exc.message}\n")
        return 1
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)
    if args.iidfile:
        Path(args.iidfile).write_text(result.image_id)
    if quiet:
        print(result.image_id)
    return 0


def _print_failure(exc: BuildError, printer: _Printer) -> None:
    out = sys.stderr
    if exc.step:
        out.write("------\n")
        out.write(f" > {exc.step}:\n")
        out.write("------\n")
    detail = exc.detail()
    reason = exc.failure
    lines = detail.splitlines()
    if lines and lines[-1].startswith("ERROR: "):
        lines[-1] = f"ERROR: failed to solve: {reason}"
    else:
        lines.append(f"ERROR: failed to solve: {reason}")
    out.write("\n".join(lines) + "\n")
    out.write(f"Error: {exc.message}\n")
