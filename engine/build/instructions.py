"""Typed instructions and stages from the parse tree (BuildKit's ``instructions``).

:func:`parse_stages` turns a parsed Dockerfile into the ARGs before the first
FROM and a list of :class:`Stage`, each with its typed commands.  Flags are
checked here (``Unknown flag: x``), as are argument counts; every error names
the file and line like BuildKit's ``dockerfile parse error on line N``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.dockerfile import DockerfileParseError, Heredoc, Node, Result, parse, parse_heredoc
from engine.dockerfile.errors import DockerfileSyntaxError
from engine.dockerfile.validate import instruction_word

_STAGE_NAME = re.compile(r"^[a-z][a-z0-9-_.]*$")
_DURATION = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 10**9,
          "m": 60 * 10**9, "h": 3600 * 10**9}
MIN_HEALTH_DURATION = 10**6  # docker's container.MinimumDuration: 1ms


class InstructionError(ValueError):
    """An instruction BuildKit's instruction parser rejects (location added later)."""


@dataclass
class Instruction:
    """Common part of every instruction: its node and source text."""

    node: Node

    @property
    def name(self) -> str:
        return self.node.value

    @property
    def original(self) -> str:
        return self.node.original.strip()

    @property
    def line(self) -> int:
        return self.node.start_line

    @property
    def end_line(self) -> int:
        return self.node.end_line


@dataclass
class KeyValues(Instruction):
    """ENV and LABEL: ordered key/value pairs (still to be expanded)."""

    pairs: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Maintainer(Instruction):
    maintainer: str = ""


@dataclass
class Arg(Instruction):
    """ARG name[=value] ...; a value of None means "no default"."""

    pairs: list[tuple[str, str | None]] = field(default_factory=list)


@dataclass
class SourceContent:
    """A heredoc used as a COPY/ADD source."""

    path: str
    data: str
    expand: bool


@dataclass
class Copy(Instruction):
    """COPY or ADD."""

    is_add: bool = False
    sources: list[str] = field(default_factory=list)
    contents: list[SourceContent] = field(default_factory=list)
    dest: str = ""
    from_: str = ""
    chown: str = ""
    chmod: str = ""
    link: bool = False
    checksum: str = ""
    excludes: list[str] = field(default_factory=list)
    unpack: bool | None = None


@dataclass
class CommandLine(Instruction):
    """RUN, CMD and ENTRYPOINT: exec form (``prepend_shell`` False) or shell form."""

    cmd: list[str] = field(default_factory=list)
    prepend_shell: bool = True
    files: list[Heredoc] = field(default_factory=list)
    network: str = "default"


@dataclass
class Shell(Instruction):
    shell: list[str] = field(default_factory=list)


@dataclass
class Word(Instruction):
    """WORKDIR, USER, STOPSIGNAL: one word (expanded at dispatch)."""

    value: str = ""


@dataclass
class Words(Instruction):
    """EXPOSE and VOLUME: a list of words (expanded at dispatch)."""

    values: list[str] = field(default_factory=list)


@dataclass
class Healthcheck(Instruction):
    """HEALTHCHECK; durations in nanoseconds, as docker stores them."""

    test: list[str] = field(default_factory=list)
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0


@dataclass
class Onbuild(Instruction):
    expression: str = ""


@dataclass
class Stage:
    """One FROM and the commands that follow it."""

    index: int
    base: str
    name: str
    platform: str
    node: Node
    commands: list[Instruction] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        return self.name or f"stage-{self.index}"


# -- flags ---------------------------------------------------------------------------


class Flags:
    """BuildKit's ``BFlags``: ``--name=value`` / ``--bool`` flags of one instruction."""

    def __init__(self, args: list[str]) -> None:
        self.args = args
        self.defs: dict[str, str] = {}
        self.values: dict[str, object] = {}
        self.used: set[str] = set()

    def add(self, name: str, kind: str, default: object = "") -> None:
        self.defs[name] = kind
        self.values[name] = [] if kind == "strings" else default

    def parse(self) -> None:
        for arg in self.args:
            if not arg.startswith("--"):
                raise InstructionError(f"Arg should start with -- : {arg}")
            if arg == "--":
                return
            body = arg[2:]
            name, eq, value = body.partition("=")
            kind = self.defs.get(name)
            if kind is None:
                raise InstructionError(f"Unknown flag: {name}")
            if name in self.used and kind != "strings":
                raise InstructionError(f"Duplicate flag specified: {name}")
            self.used.add(name)
            if kind == "bool":
                if eq and not value:
                    raise InstructionError(f"Missing a value on flag: {name}")
                lower = value.lower()
                if lower not in ("", "true", "false"):
                    raise InstructionError(f"Expecting boolean value for flag {name}, not: {value}")
                self.values[name] = lower != "false"
            elif not eq:
                raise InstructionError(f"Missing a value on flag: {name}")
            elif kind == "strings":
                self.values[name].append(value)  # type: ignore[union-attr]
            else:
                self.values[name] = value

    def __getitem__(self, name: str):
        return self.values[name]


# -- node -> instruction -----------------------------------------------------------------


def node_args(node: Node) -> list[str]:
    """The argument values, with an ONBUILD trigger's name and arguments inlined."""
    out: list[str] = []
    for arg in node.iter_next():
        if not arg.children:
            out.append(arg.value)
        elif len(arg.children) == 1:
            child = arg.children[0]
            out.append(child.value)
            out.extend(node_args(child))
    return out


def _cmdline(node: Node, args: list[str]) -> tuple[list[str], bool]:
    if node.is_json:
        return list(args), False
    return [" ".join(args)] if args else [], True


def _kvs(args: list[str], what: str) -> list[tuple[str, str]]:
    if not args:
        raise InstructionError(f"{what} requires at least one argument")
    if len(args) % 3 != 0:
        raise InstructionError(f"Bad input to {what}, too many arguments")
    pairs = []
    for i in range(0, len(args), 3):
        if not args[i]:
            raise InstructionError(f"{what} names can not be blank")
        pairs.append((args[i], args[i + 1]))
    return pairs


def parse_duration(text: str) -> int:
    """Go's ``time.ParseDuration`` in nanoseconds (non-negative forms)."""
    if text in ("0", "+0"):
        return 0
    body = text.lstrip("+")
    if not body:
        raise InstructionError(f'time: invalid duration "{text}"')
    pos, total = 0, 0.0
    while pos < len(body):
        match = _DURATION.match(body, pos)
        if match is None or match.group(1) in ("", "."):
            if match is None and re.match(r"[0-9.]+\Z", body[pos:]):
                raise InstructionError(f'time: missing unit in duration "{text}"')
            raise InstructionError(f'time: invalid duration "{text}"')
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return int(round(total))


def _duration_flag(flags: Flags, name: str) -> int:
    value = flags[name]
    if not value:
        return 0
    nanos = parse_duration(value)
    if nanos == 0:
        return 0
    if nanos < MIN_HEALTH_DURATION:
        raise InstructionError(f'Interval "{name}" cannot be less than 1ms')
    return nanos


def _parse_healthcheck(node: Node, args: list[str], flags: Flags) -> Healthcheck:
    if not args:
        raise InstructionError("HEALTHCHECK requires at least one argument")
    kind = args[0].upper()
    rest = args[1:]
    if kind == "NONE":
        if rest:
            raise InstructionError("HEALTHCHECK NONE takes no arguments")
        flags.parse()
        return Healthcheck(node, test=["NONE"])
    for name in ("interval", "timeout", "start-period", "start-interval", "retries"):
        flags.add(name, "string")
    flags.parse()
    if kind != "CMD":
        raise InstructionError(f'Unknown type "{kind}" in HEALTHCHECK (try CMD)')
    cmd = list(rest) if node.is_json else ([" ".join(rest)] if rest else [])
    if not cmd:
        raise InstructionError("Missing command after HEALTHCHECK CMD")
    test = ["CMD" if node.is_json else "CMD-SHELL", *cmd]
    retries = 0
    if flags["retries"]:
        try:
            retries = int(flags["retries"])
        except ValueError:
            raise InstructionError(
                f'strconv.ParseInt: parsing "{flags["retries"]}": invalid syntax') from None
        if retries < 0:
            raise InstructionError(f"--retries cannot be negative ({retries})")
    return Healthcheck(node, test=test, interval=_duration_flag(flags, "interval"),
                       timeout=_duration_flag(flags, "timeout"),
                       start_period=_duration_flag(flags, "start-period"),
                       start_interval=_duration_flag(flags, "start-interval"), retries=retries)


def _parse_copy(node: Node, args: list[str], flags: Flags, is_add: bool) -> Copy:
    what = "ADD" if is_add else "COPY"
    if len(args) < 2:
        raise InstructionError(
            f"{what} requires at least two arguments, but only one was provided. "
            "Destination could not be determined")
    flags.add("chown", "string")
    flags.add("chmod", "string")
    flags.add("link", "bool", False)
    flags.add("exclude", "strings")
    if is_add:
        flags.add("checksum", "string")
        flags.add("keep-git-dir", "bool", False)
        flags.add("unpack", "bool", None)
    else:
        flags.add("from", "string")
        flags.add("parents", "bool", False)
    flags.parse()
    if not is_add and flags["parents"]:
        raise InstructionError("COPY --parents is not supported by strata")
    dest = args[-1]
    if _heredoc(dest) is not None:
        raise InstructionError(f"{what} cannot accept a heredoc as a destination")
    docs = {doc.name: doc for doc in node.heredocs}
    sources, contents = [], []
    for src in args[:-1]:
        doc = _heredoc(src)
        if doc is not None:
            body = docs.get(doc.name, Heredoc(doc.name))
            data = body.content
            if doc.chomp:
                data = Heredoc(doc.name, data, chomp=True).body
            contents.append(SourceContent(doc.name, data, doc.expand))
        else:
            sources.append(src)
    return Copy(node, is_add=is_add, sources=sources, contents=contents, dest=dest,
                from_="" if is_add else flags["from"], chown=flags["chown"], chmod=flags["chmod"],
                link=bool(flags["link"]), checksum=flags["checksum"] if is_add else "",
                excludes=list(flags["exclude"]), unpack=flags["unpack"] if is_add else None)


def _heredoc(word: str) -> Heredoc | None:
    try:
        return parse_heredoc(word)
    except DockerfileSyntaxError:
        return None


def parse_instruction(node: Node) -> Instruction | Stage:
    """A typed instruction (or a Stage for FROM); raises InstructionError."""
    name = node.value
    args = node_args(node)
    flags = Flags(list(node.flags))
    if name in ("env", "label"):
        flags.parse()
        return KeyValues(node, pairs=_kvs(args, name.upper()))
    if name == "maintainer":
        if len(args) != 1:
            raise InstructionError("MAINTAINER requires exactly one argument")
        flags.parse()
        return Maintainer(node, maintainer=args[0])
    if name in ("add", "copy"):
        return _parse_copy(node, args, flags, name == "add")
    if name == "from":
        return _parse_from(node, args, flags)
    if name == "onbuild":
        if not args:
            raise InstructionError("ONBUILD requires at least one argument")
        flags.parse()
        trigger = args[0].strip().upper()
        if trigger == "ONBUILD":
            raise InstructionError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
        if trigger in ("MAINTAINER", "FROM"):
            raise InstructionError(f"{trigger} isn't allowed as an ONBUILD trigger")
        expression = re.sub(r"(?i)^\s*ONBUILD\s*", "", node.original, count=1)
        sub = node.sub_instruction
        for doc in (sub.heredocs if sub is not None else []):
            expression += "\n" + doc.content + doc.name
        return Onbuild(node, expression=expression)
    if name == "workdir":
        if len(args) != 1:
            raise InstructionError("WORKDIR requires exactly one argument")
        flags.parse()
        return Word(node, value=args[0])
    if name == "run":
        flags.add("network", "string", "default")
        flags.add("mount", "strings")
        flags.add("security", "string", "sandbox")
        flags.add("device", "strings")
        flags.parse()
        if flags["mount"]:
            raise InstructionError("RUN --mount is not supported by strata")
        if flags["device"]:
            raise InstructionError("RUN --device is not supported by strata")
        if flags["network"] not in ("default", "none", "host"):
            raise InstructionError(f"unsupported network mode {flags['network']!r}")
        if flags["security"] not in ("sandbox", "insecure"):
            raise InstructionError(f"unsupported security mode {flags['security']!r}")
        cmd, shell = _cmdline(node, args)
        return CommandLine(node, cmd=cmd, prepend_shell=shell, files=list(node.heredocs),
                           network=flags["network"])
    if name in ("cmd", "entrypoint"):
        flags.parse()
        cmd, shell = _cmdline(node, args)
        return CommandLine(node, cmd=cmd, prepend_shell=shell)
    if name == "healthcheck":
        return _parse_healthcheck(node, args, flags)
    if name == "expose":
        if not args:
            raise InstructionError("EXPOSE requires at least one argument")
        flags.parse()
        return Words(node, values=sorted(args))
    if name == "user":
        if len(args) != 1:
            raise InstructionError("USER requires exactly one argument")
        flags.parse()
        return Word(node, value=args[0])
    if name == "volume":
        if not args:
            raise InstructionError("VOLUME requires at least one argument")
        flags.parse()
        values = [v.strip() for v in args]
        if any(not v for v in values):
            raise InstructionError("VOLUME specified can not be an empty string")
        return Words(node, values=values)
    if name == "stopsignal":
        if len(args) != 1:
            raise InstructionError("STOPSIGNAL requires exactly one argument")
        flags.parse()
        return Word(node, value=args[0])
    if name == "arg":
        if not args:
            raise InstructionError("ARG requires at least one argument")
        flags.parse()
        pairs: list[tuple[str, str | None]] = []
        for arg in args:
            if "=" in arg:
                key, _, value = arg.partition("=")
                if not key:
                    raise InstructionError("ARG names can not be blank")
                pairs.append((key, value))
            else:
                pairs.append((arg, None))
        return Arg(node, pairs=pairs)
    if name == "shell":
        flags.parse()
        if not args:
            raise InstructionError("SHELL requires at least one argument")
        if not node.is_json:
            raise InstructionError(
                "SHELL requires the arguments to be in JSON form")
        return Shell(node, shell=list(args))
    raise InstructionError(f"unknown instruction: {instruction_word(node)}")


def _parse_from(node: Node, args: list[str], flags: Flags) -> Stage:
    name = ""
    if len(args) == 3 and args[1].lower() == "as":
        name = args[2].lower()
        if not _STAGE_NAME.match(name):
            raise InstructionError(
                f'invalid name for build stage: "{args[2]}", name can\'t start with a number '
                "or contain symbols")
    elif len(args) != 1:
        raise InstructionError("FROM requires either one or three arguments")
    flags.add("platform", "string")
    flags.parse()
    return Stage(index=-1, base=args[0], name=name, platform=flags["platform"], node=node)


def location_error(result_or_lines, node: Node, reason: str, filename: str = "Dockerfile",
                   prefix: bool = True) -> DockerfileParseError:
    """A DockerfileParseError at *node*'s lines."""
    lines = getattr(result_or_lines, "source_lines", result_or_lines)
    filename = getattr(result_or_lines, "filename", filename)
    if prefix:
        reason = f"dockerfile parse error on line {node.start_line}: {reason}"
    return DockerfileParseError(reason, filename=filename, line=node.start_line or None,
                                end_line=node.end_line or None, source_lines=tuple(lines))


def parse_stages(result: Result) -> tuple[list[Arg], list[Stage]]:
    """The ARGs before the first FROM, and the stages with their commands."""
    meta: list[Arg] = []
    stages: list[Stage] = []
    for node in result.ast.children:
        try:
            item = parse_instruction(node)
        except InstructionError as exc:
            raise location_error(result, node, str(exc)) from None
        if isinstance(item, Stage):
            item.index = len(stages)
            stages.append(item)
        elif not stages:
            if isinstance(item, Arg):
                meta.append(item)
            else:
                raise location_error(result, node, "no build stage in current context", prefix=False)
        else:
            stages[-1].commands.append(item)
    if not stages:
        raise DockerfileParseError("dockerfile contains no stages to build", filename=result.filename)
    return meta, stages


def parse_trigger(expression: str) -> Node:
    """The node of one ONBUILD trigger expression."""
    result = parse(expression, "onbuild")
    if len(result.ast.children) != 1:
        raise InstructionError("onbuild trigger should be a single expression")
    return result.ast.children[0]


__all__ = [
    "Arg", "CommandLine", "Copy", "Flags", "Healthcheck", "Instruction", "InstructionError",
    "KeyValues", "Maintainer", "Onbuild", "Shell", "SourceContent", "Stage", "Word", "Words",
    "location_error", "node_args", "parse_duration", "parse_instruction", "parse_stages",
    "parse_trigger",
]
