"""Analysis commands: layers, tree, analyze, cat, cp, diff."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

from engine import Engine, InvalidReference
from engine.efficiency import ci_check, to_dive_json

from .output import ellipsis, human_size, tabwrite

MARKERS = {"added": "+", "modified": "~", "removed": "-", "unchanged": " "}
STATUS_ALIASES = {"a": "added", "m": "modified", "r": "removed", "u": "unchanged", "d": "removed",
                  "c": "modified"}


def register(sub) -> None:
    p = sub.add_parser("layers", help="Show an image's layers: size, diff_id and the step that made each")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--json", action="store_true", help="Print JSON")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.set_defaults(handler=cmd_layers)

    p = sub.add_parser("tree", help="Show the file tree of an image or of one of its layers")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--layer", type=int, metavar="N", help="Show layer N (0 = bottom) and what it changed; default: the merged image")
    p.add_argument("--changes", metavar="LIST", help="Only these statuses: added,modified,removed,unchanged")
    p.add_argument("--path", default="", metavar="PREFIX", help="Only the subtree at PREFIX")
    p.add_argument("--sort", choices=["name", "size"], default="name", help="Order of entries in a directory")
    p.add_argument("--compare", choices=["layer", "image"], default="layer",
                   help="With --layer: compare with the layer below (default) or with the first layer")
    p.add_argument("--json", action="store_true", help="Print JSON, one object per entry")
    p.set_defaults(handler=cmd_tree)

    p = sub.add_parser("analyze", help="Efficiency and wasted space, with dive's definitions")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--json", action="store_true", help="Print dive's JSON export schema")
    p.add_argument("--ci", action="store_true", help="Evaluate the thresholds; exit 1 if one fails (dive's CI mode)")
    p.add_argument("--lowest-efficiency", default="0.9", help="Lowest allowable efficiency, 0..1 (default 0.9)")
    p.add_argument("--highest-wasted-bytes", default="disabled", help="Highest allowable wasted bytes, e.g. 20MB")
    p.add_argument("--highest-user-wasted-percent", default="0.1",
                   help="Highest allowable share of user bytes wasted, 0..1 (default 0.1)")
    p.set_defaults(handler=cmd_analyze)

    p = sub.add_parser("cat", help="Print a file as the image sees it")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("path", metavar="PATH")
    p.set_defaults(handler=cmd_cat)

    p = sub.add_parser("cp", help="Copy a file or directory out of an image (IMAGE:PATH DEST)")
    p.add_argument("source", metavar="IMAGE:PATH")
    p.add_argument("dest", metavar="DEST")
    p.set_defaults(handler=cmd_cp)

    p = sub.add_parser("diff", help="Paths added (A), changed (C) or deleted (D) from IMAGE1 to IMAGE2")
    p.add_argument("image1", metavar="IMAGE1")
    p.add_argument("image2", metavar="IMAGE2")
    p.add_argument("--json", action="store_true", help="Print JSON")
    p.set_defaults(handler=cmd_diff)


def cmd_layers(engine: Engine, args) -> int:
    layers = engine.layers(args.image)
    if args.json:
        print(json.dumps([{"index": l.index, "digest": l.digest, "diffId": l.diff_id, "size": l.size,
                           "compressedSize": l.compressed_size, "mediaType": l.media_type,
                           "createdBy": l.created_by, "created": l.created} for l in layers], indent=2))
        return 0
    lines = ["INDEX\tSIZE\tDIFF ID\tCREATED BY"]
    for l in layers:
        diff_id = l.diff_id if args.no_trunc else l.diff_id[7:19]
        created_by = l.created_by.replace("\t", " ")
        lines.append(f"{l.index}\t{human_size(l.size)}\t{diff_id}\t"
                     f"{created_by if args.no_trunc else ellipsis(created_by, 60)}")
    tabwrite(lines)
    return 0


def parse_changes(text: str | None) -> set[str] | None:
    if not text:
        return None
    out = set()
    for word in text.split(","):
        word = word.strip().lower()
        word = STATUS_ALIASES.get(word, word)
        if word not in MARKERS:
            raise InvalidReference(f"unknown change type {word!r}: use added, modified, removed, unchanged")
        out.add(word)
    return out


def _mode_string(node) -> str:
    kinds = {"dir": stat.S_IFDIR, "symlink": stat.S_IFLNK, "char": stat.S_IFCHR, "block": stat.S_IFBLK,
             "fifo": stat.S_IFIFO}
    return stat.filemode(kinds.get(node.type, stat.S_IFREG) | node.mode)


def cmd_tree(engine: Engine, args) -> int:
    view = engine.tree_view(args.image, layer=args.layer, changes=parse_changes(args.changes),
                            prefix=args.path.strip("/"), compare=args.compare)
    out = sys.stdout
    if args.json:
        for node in view.walk(args.path.strip("/")):
            out.write(json.dumps({"path": "/" + node.path, "type": node.type, "mode": oct(node.mode),
                                  "uid": node.uid, "gid": node.gid, "size": node.size,
                                  "linkname": node.linkname, "status": node.status,
                                  "layer": node.layer}) + "\n")
        return 0
    out.write("  Permission     UID:GID       Size  Filetree\n")
    _print_children(view, args.path.strip("/"), "", args.sort, out)
    return 0


def _print_children(view, path: str, indent: str, sort: str, out) -> None:
    children = view.children(path, sort=sort)
    for i, node in enumerate(children):
        last = i == len(children) - 1
        branch = "└── " if last else "├── "
        name = node.name + (f" → {node.linkname}" if node.linkname else "")
        size = human_size(node.size) if node.type in ("file", "dir", "hardlink") else ""
        out.write(f"{MARKERS.get(node.status, ' ')} {_mode_string(node)} {node.uid:>7}:{node.gid:<7}"
                  f"{size:>8}  {indent}{branch}{name}\n")
        if node.type == "dir" and node.child_count:
            _print_children(view, node.path, indent + ("    " if last else "│   "), sort, out)


def cmd_analyze(engine: Engine, args) -> int:
    analysis = engine.analyze(args.image)
    layers = engine.layers(args.image)
    meta = [{"id": l.digest, "digest": l.diff_id, "size": l.size, "command": l.created_by} for l in layers]
    if args.json:
        print(json.dumps(to_dive_json(analysis, meta), indent=2))
    else:
        print("Image Details:")
        print(f"  efficiency: {analysis.efficiency * 100:.4f} %")
        print(f"  wastedBytes: {analysis.wasted_bytes} bytes ({human_size(analysis.wasted_bytes)})")
        print(f"  userWastedPercent: {analysis.wasted_user_percent * 100:.4f} %")
        print("Inefficient Files:")
        lines = ["Count\tWasted Space\tFile Path\tWasted By"]
        for f in analysis.files:
            step = layers[f.wasted_by].created_by if f.wasted_by < len(layers) else ""
            how = "removed" if f.removed else "overwritten"
            lines.append(f"{f.count}\t{human_size(f.size)}\t/{f.path}\t"
                         f"{how} in layer {f.wasted_by}: {ellipsis(step.replace(chr(9), ' '), 50)}")
        tabwrite(lines)
    if not args.ci:
        return 0
    results = ci_check(analysis, args.lowest_efficiency, args.highest_wasted_bytes,
                       args.highest_user_wasted_percent)
    stream = sys.stderr if args.json else sys.stdout
    stream.write("Results:\n")
    failed = 0
    for r in results:
        word = {"pass": "PASS", "fail": "FAIL", "disabled": "SKIP", "misconfigured": "MISCONFIGURED"}[r.status]
        stream.write(f"  {word}: {r.name}" + (f": {r.message}" if r.message and r.status != "disabled" else "") + "\n")
        failed += r.status in ("fail", "misconfigured")
    passed = sum(r.status == "pass" for r in results)
    skipped = sum(r.status == "disabled" for r in results)
    verdict = "FAIL" if failed else "PASS"
    stream.write(f"Result:{verdict} [Total:{len(results)}] [Passed:{passed}] [Failed:{failed}] "
                 f"[Warn:0] [Skipped:{skipped}]\n")
    return 1 if failed else 0


def cmd_cat(engine: Engine, args) -> int:
    stream, _size = engine.open_file(args.image, args.path)
    with stream:
        out = sys.stdout.buffer
        while chunk := stream.read(1 << 20):
            out.write(chunk)
        out.flush()
    return 0


def cmd_cp(engine: Engine, args) -> int:
    image, sep, path = args.source.rpartition(":")
    if not sep or not image or not path.startswith("/"):
        raise InvalidReference(f"expected IMAGE:/PATH (an absolute path after the last colon), got {args.source!r}")
    engine.extract(image, path.strip("/"), Path(args.dest))
    return 0


def cmd_diff(engine: Engine, args) -> int:
    changes = engine.diff(args.image1, args.image2)
    if args.json:
        print(json.dumps({k: [{"path": "/" + c.path, "size": c.size} for c in changes if c.kind == k]
                          for k in ("A", "C", "D")}, indent=2))
        return 0
    for c in changes:
        print(f"{c.kind} /{c.path} {human_size(c.size)}")
    return 0
