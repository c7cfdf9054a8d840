"""Local image commands: images, tag, rmi, inspect, history, save, load, import, export, prune, df."""

from __future__ import annotations

import sys
from pathlib import Path

from engine import Engine, InvalidReference, NotFound, StrataError
from engine.events import Status
from engine.listing import created_ts, parse_time
from engine.reference import parse_reference

from .output import ellipsis, go_json, human_size, since, tabwrite
from .templating import render_rows, render_template


def register(sub) -> None:
    """Add the local-image commands, and the ``image`` / ``system`` groups."""
    _images(sub, "images")
    _tag(sub, "tag")
    _rmi(sub, "rmi")
    _inspect(sub, "inspect")
    _history(sub, "history")
    _save(sub, "save")
    _load(sub, "load")
    _import(sub, "import")
    _export(sub, "export")
    image = sub.add_parser("image", help="Manage images")
    isub = image.add_subparsers(dest="image_command", metavar="COMMAND", parser_class=type(image))
    _images(isub, "ls", aliases=["list"])
    _tag(isub, "tag")
    _rmi(isub, "rm", aliases=["remove"])
    _inspect(isub, "inspect")
    _history(isub, "history")
    _save(isub, "save")
    _load(isub, "load")
    _import(isub, "import")
    _prune(isub, "prune")
    system = sub.add_parser("system", help="Manage the store")
    ssub = system.add_subparsers(dest="system_command", metavar="COMMAND", parser_class=type(system))
    _df(ssub, "df")


# -- images ----------------------------------------------------------------------

IMAGE_HEADERS = {
    "Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "Digest": "DIGEST",
    "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE",
    "VirtualSize": "SIZE", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE",
    "Containers": "CONTAINERS",
}


def _images(sub, name, aliases=()):
    p = sub.add_parser(name, aliases=list(aliases), help="List images",
                       description="List images in the store.")
    p.add_argument("reference", nargs="?", metavar="REPOSITORY[:TAG]")
    p.add_argument("-a", "--all", action="store_true", help="Show all images (default hides intermediate images)")
    p.add_argument("-q", "--quiet", action="store_true", help="Only show image IDs")
    p.add_argument("--digests", action="store_true", help="Show digests")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("-f", "--filter", action="append", default=[], metavar="FILTER",
                   help="Filter output based on conditions provided (reference=, dangling=, before=, since=, label=)")
    p.add_argument("--format", metavar="FORMAT",
                   help="Format output: 'table', 'table TEMPLATE', 'json', or a Go template")
    p.set_defaults(handler=cmd_images)


def image_context(row, no_trunc: bool) -> dict:
    rec = row.record
    ts = created_ts(rec)
    dt = parse_time(rec.created)
    return {
        "Repository": row.repository,
        "Tag": row.tag,
        "ID": rec.id if no_trunc else rec.id[7:19],
        "Digest": row.digest,
        "CreatedSince": since(ts),
        "CreatedAt": dt.strftime("%Y-%m-%d %H:%M:%S +0000 UTC") if dt else "",
        "Size": human_size(rec.size),
        "VirtualSize": human_size(rec.size),
        "SharedSize": "N/A",
        "UniqueSize": "N/A",
        "Containers": "N/A",
    }


def cmd_images(engine: Engine, args) -> int:
    rows = engine.images(args.reference, all=args.all, filters=args.filter)
    if args.quiet:
        for row in rows:
            print(row.record.id if args.no_trunc else row.record.id[7:19])
        return 0
    contexts = [image_context(r, args.no_trunc) for r in rows]
    fmt = args.format
    if fmt is None or fmt == "table":
        cols = "{{.Repository}}\t{{.Tag}}\t"
        if args.digests:
            cols += "{{.Digest}}\t"
        fmt = "table " + cols + "{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    render_rows(fmt, contexts, IMAGE_HEADERS)
    return 0


# -- tag / rmi ---------------------------------------------------------------------


def _tag(sub, name):
    p = sub.add_parser(name, help="Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE")
    p.add_argument("source", metavar="SOURCE_IMAGE[:TAG]")
    p.add_argument("target", metavar="TARGET_IMAGE[:TAG]")
    p.set_defaults(handler=cmd_tag)


def cmd_tag(engine: Engine, args) -> int:
    engine.tag(args.source, args.target)
    return 0


def _rmi(sub, name, aliases=()):
    p = sub.add_parser(name, aliases=list(aliases), help="Remove one or more images")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-f", "--force", action="store_true", help="Force removal of the image")
    p.add_argument("--no-prune", action="store_true", help="Accepted for compatibility (there are no untagged parents)")
    p.set_defaults(handler=cmd_rmi)


def cmd_rmi(engine: Engine, args) -> int:
    try:
        report = engine.remove(args.images, force=args.force)
    except StrataError as exc:
        report = getattr(exc, "report", None)
        if report is not None:
            for line in report.lines():
                print(line)
        sys.stderr.write(f"Error: {exc.message}\n")
        return 1
    for line in report.lines():
        print(line)
    return 0


# -- inspect / history ---------------------------------------------------------------


def _inspect(sub, name):
    p = sub.add_parser(name, help="Display detailed information on one or more images")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-f", "--format", metavar="TEMPLATE", help="Format output using a Go template or 'json'")
    p.add_argument("--type", choices=["image"], help="Only 'image' objects exist in Strata")
    p.set_defaults(handler=cmd_inspect)


def cmd_inspect(engine: Engine, args) -> int:
    results, errors = [], []
    for name in args.images:
        try:
            results.append(engine.inspect(name))
        except (NotFound, InvalidReference) as exc:
            errors.append(exc.message)
    if args.format and args.format != "json":
        for obj in results:
            print(render_template(args.format, obj))
    else:
        print(go_json(results, indent=4))
    for err in errors:
        sys.stderr.write(f"Error: {err}\n")
    return 1 if errors else 0


HISTORY_HEADERS = {"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
                   "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT"}


def _history(sub, name):
    p = sub.add_parser(name, help="Show the history of an image")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("-H", "--human", default="true", nargs="?", const="true",
                   help="Print sizes and dates in human readable format (default true)")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("-q", "--quiet", action="store_true", help="Only show image IDs")
    p.add_argument("--format", metavar="FORMAT", help="Format output using a Go template")
    p.set_defaults(handler=cmd_history)


def cmd_history(engine: Engine, args) -> int:
    human = str(args.human).lower() not in ("false", "0")
    rows = engine.history(args.image)
    if args.quiet:
        for row in rows:
            print(_short_id(row["id"], args.no_trunc))
        return 0
    contexts = []
    for row in rows:
        created_by = row["created_by"].replace("\t", " ")
        dt = parse_time(row["created"])
        contexts.append({
            "ID": _short_id(row["id"], args.no_trunc),
            "CreatedSince": since(dt.timestamp() if dt else None) if human else (
                dt.strftime("%Y-%m-%dT%H:%M:%SZ") if dt else "N/A"),
            "CreatedAt": dt.strftime("%Y-%m-%dT%H:%M:%SZ") if dt else "",
            "CreatedBy": created_by if args.no_trunc else ellipsis(created_by, 45),
            "Size": human_size(row["size"]) if human else str(row["size"]),
            "Comment": row["comment"],
        })
    fmt = args.format or "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
    render_rows(fmt, contexts, HISTORY_HEADERS)
    return 0


def _short_id(image_id: str, no_trunc: bool) -> str:
    if image_id == "<missing>" or no_trunc:
        return image_id
    return image_id[7:19]


# -- save / load / import / export ---------------------------------------------------


def _save(sub, name):
    p = sub.add_parser(name, help="Save one or more images to a tar archive (streamed to STDOUT by default)")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-o", "--output", metavar="FILE", help="Write to a file, instead of STDOUT")
    p.add_argument("--format", choices=["docker", "oci", "oci-dir"], default="docker",
                   help="docker-archive (default; read by docker load and skopeo), oci (OCI layout tar) "
                        "or oci-dir (OCI layout directory, needs -o)")
    p.add_argument("--compress", choices=["none", "gzip", "zstd"], default="none",
                   help="Compress the whole archive (load reads all three)")
    p.set_defaults(handler=cmd_save)


def cmd_save(engine: Engine, args) -> int:
    if args.format == "oci-dir":
        if not args.output:
            raise InvalidReference("--format oci-dir needs -o DIR")
        engine.save(args.images, Path(args.output), format="oci-dir")
        return 0
    if not args.output:
        if sys.stdout.isatty():
            raise InvalidReference("cowardly refusing to save to a terminal. Use the -o flag or redirect")
        engine.save(args.images, sys.stdout.buffer, format=args.format, compression=args.compress)
        return 0
    engine.save(args.images, Path(args.output), format=args.format, compression=args.compress)
    return 0


def _load(sub, name):
    p = sub.add_parser(name, help="Load images from a tar archive or STDIN")
    p.add_argument("-i", "--input", metavar="FILE", help="Read from tar archive file (or an OCI layout directory), instead of STDIN")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress the load output")
    p.set_defaults(handler=cmd_load)


def _status_printer(quiet: bool):
    def on_event(event) -> None:
        if isinstance(event, Status) and not quiet:
            print(event.text)
    return on_event


def cmd_load(engine: Engine, args) -> int:
    if args.input and Path(args.input).is_dir():
        loaded = engine.load(Path(args.input), progress=_status_printer(args.quiet))
        _print_loaded(loaded, args.quiet)
        return 0
    if args.input:
        try:
            stream = open(args.input, "rb")
        except OSError as exc:
            raise NotFound(f"opening {args.input}: {exc.strerror}") from exc
    else:
        if sys.stdin.isatty():
            raise InvalidReference("requested load from stdin, but stdin is empty")
        stream = sys.stdin.buffer
    with stream:
        loaded = engine.load(stream, progress=_status_printer(args.quiet))
    _print_loaded(loaded, args.quiet)
    return 0


def _print_loaded(loaded, quiet: bool) -> None:
    if not quiet:
        for item in loaded:
            if item.tags:
                for tag in item.tags:
                    print(f"Loaded image: {tag.familiar()}")
            else:
                print(f"Loaded image ID: {item.id}")


def _import(sub, name):
    p = sub.add_parser(name, help="Import the contents from a tarball to create a filesystem image")
    p.add_argument("file", metavar="file|-")
    p.add_argument("reference", nargs="?", metavar="REPOSITORY[:TAG]")
    p.add_argument("-m", "--message", default="", help="Set commit message for imported image")
    p.add_argument("-c", "--change", action="append", default=[],
                   help="Apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME)")
    p.add_argument("--platform", help="Set platform (os/arch[/variant])")
    p.set_defaults(handler=cmd_import)


def cmd_import(engine: Engine, args) -> int:
    if args.file == "-":
        stream, source = sys.stdin.buffer, "-"
    else:
        try:
            stream, source = open(args.file, "rb"), args.file
        except OSError as exc:
            raise NotFound(f"opening {args.file}: {exc.strerror}") from exc
    with stream:
        image_id = engine.import_image(stream, args.reference, message=args.message,
                                       changes=args.change, source=source, platform=args.platform)
    print(image_id)
    return 0


def _export(sub, name):
    p = sub.add_parser(name, help="Export an image's flattened filesystem as a tar archive")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("-o", "--output", metavar="FILE", help="Write to a file, instead of STDOUT")
    p.set_defaults(handler=cmd_export)


def cmd_export(engine: Engine, args) -> int:
    if args.output:
        engine.export(args.image, Path(args.output))
    else:
        if sys.stdout.isatty():
            raise InvalidReference("cowardly refusing to save to a terminal. Use the -o flag or redirect")
        engine.export(args.image, sys.stdout.buffer)
    return 0


# -- prune / df ----------------------------------------------------------------------


def _prune(sub, name):
    p = sub.add_parser(name, help="Remove unused images")
    p.add_argument("-a", "--all", action="store_true", help="Remove all unused images, not just dangling ones")
    p.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")
    p.add_argument("--filter", action="append", default=[], help="Provide filter values (e.g. 'until=<timestamp>')")
    p.add_argument("--dry-run", action="store_true", help="Show what would be removed, remove nothing")
    p.set_defaults(handler=cmd_prune)


def cmd_prune(engine: Engine, args) -> int:
    if not args.force and not args.dry_run:
        warning = ("WARNING! This will remove all images without at least one container associated to them."
                   if args.all else "WARNING! This will remove all dangling images.")
        sys.stdout.write(f"{warning}\nAre you sure you want to continue? [y/N] ")
        sys.stdout.flush()
        answer = sys.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            return 0
    report = engine.prune(all=args.all, filters=args.filter, dry_run=args.dry_run)
    if report.untagged or report.deleted:
        print("Deleted Images:" if not args.dry_run else "Would delete images:")
        for u in report.untagged:
            print(f"untagged: {u}")
        for d in report.deleted:
            print(f"deleted: {d}")
        print()
    print(f"Total reclaimed space: {human_size(report.reclaimed)}")
    return 0


def _df(sub, name):
    p = sub.add_parser(name, help="Show store disk usage")
    p.add_argument("-v", "--verbose", action="store_true", help="Show detailed information on space usage")
    p.add_argument("--format", help="Format output using a Go template or 'json'")
    p.set_defaults(handler=cmd_df)


def cmd_df(engine: Engine, args) -> int:
    usage = engine.disk_usage()
    pct = f" ({round(100 * usage.reclaimable / usage.size)}%)" if usage.size else ""
    summary = [
        {"Type": "Images", "TotalCount": str(usage.images), "Active": str(usage.active),
         "Size": human_size(usage.size), "Reclaimable": human_size(usage.reclaimable) + pct},
        {"Type": "Containers", "TotalCount": "0", "Active": "0", "Size": "0B", "Reclaimable": "0B"},
        {"Type": "Local Volumes", "TotalCount": "0", "Active": "0", "Size": "0B", "Reclaimable": "0B"},
        {"Type": "Build Cache", "TotalCount": str(usage.build_cache_count), "Active": "0",
         "Size": human_size(usage.build_cache),
         "Reclaimable": human_size(usage.build_cache)},
    ]
    if not args.verbose:
        render_rows(args.format or "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
                    summary, {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE",
                              "Reclaimable": "RECLAIMABLE"})
        return 0
    print("Images space usage:\n")
    lines = ["REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS"]
    for item in usage.per_image:
        rec = item["record"]
        names = [parse_reference(t) for t in rec.tags] or [None]
        for ref in names:
            repo, tag = (ref.familiar_name, ref.tag) if ref else ("<none>", "<none>")
            lines.append(f"{repo}\t{tag}\t{rec.id[7:19]}\t{since(created_ts(rec))}\t{human_size(rec.size)}\t"
                         f"{human_size(item['shared'])}\t{human_size(item['unique'])}\t0")
    tabwrite(lines)
    print("\nContainers space usage:\n\nCONTAINER ID   IMAGE     COMMAND   LOCAL VOLUMES   SIZE      CREATED   STATUS    NAMES")
    print("\nLocal Volumes space usage:\n\nVOLUME NAME   LINKS     SIZE")
    print(f"\nBuild cache usage: {human_size(usage.build_cache)}")
    return 0

