"""The build itself: stages, the dispatch of each instruction, and the result image.

Each instruction is a pure step from one :class:`State` (config, layers, cache
key) to the next.  Metadata instructions only change the config; their history
``created`` is the previous entry's (or the epoch), so a rebuild gives the
same config.  RUN, COPY, ADD and WORKDIR add a layer: their result is stored as
an intermediate image under the step's cache key, and an unchanged rebuild
takes it from there without running anything.
"""

from __future__ import annotations

import copy
import inspect
import math
import os
import posixpath
import signal as signal_module
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine import mediatypes as mt
from engine.digest import Descriptor
from engine.dockerfile import Result, chomp_heredoc_content, parse_heredoc
from engine.dockerfile.errors import DockerfileSyntaxError
from engine.errors import Cancelled, InvalidReference, NotFound, StrataError
from engine.image import Layer, build_manifest, rfc3339
from engine.platforms import Platform, host_platform, parse_platform
from engine.reference import Reference, parse_reference
from engine.store import NewImage

from . import sandbox
from .cache import BuildCache, step_key
from .context import SourceTree, has_wildcards
from .copyplan import CopyPlan
from .errors import BuildError, reason_of
from .fsview import DirView, IndexView, View
from .imageconfig import (DEFAULT_SHELL, add_env, base_config, encode, env_dict, go_list_q, go_list_v,
                          healthcheck_text, history_entry, run_command_string)
from .instructions import (Arg, CommandLine, Copy, Healthcheck, Instruction, InstructionError, KeyValues,
                           Maintainer, Onbuild, Shell, Stage, Word, Words, parse_instruction, parse_trigger)
from .layerwriter import LayerWriter, read_xattrs
from .progress import Reporter, Vertex
from .remote import fetch, is_archive, is_git, is_url
from .rootfs import IS_ROOT, Rootfs, apply_layer, components, rmtree, scoped_path
from .shellwords import ShellError, ShellLex
from .snapshot import diff, snapshot, tree_key
from .users import resolve_chown, resolve_user

PROXY_ARGS = frozenset({"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
                        "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"})
LAYER_INSTRUCTIONS = ("add", "copy", "run", "workdir")
_OCI_LAYER_TYPES = {mt.DOCKER_LAYER: mt.OCI_LAYER, mt.DOCKER_LAYER_GZIP: mt.OCI_LAYER_GZIP,
                    mt.DOCKER_LAYER_ZSTD: mt.OCI_LAYER_ZSTD}


@dataclass
class LayerRef:
    descriptor: Descriptor
    diff_id: str


@dataclass
class State:
    """Where a stage stands after some instructions."""

    config: dict
    layers: list[LayerRef]
    key: str
    platform: Platform
    env: list[str]                              # the run environment: config Env plus ARG values
    build_args: list[tuple[str, str | None]]    # ARGs declared in the stage, in order
    stored: str | None = None                   # image ID equal to this state, if stored
    parent_id: str | None = None                # nearest stored ancestor (intermediate)

    def derive(self, **changes) -> "State":
        out = State(copy.deepcopy(self.config), list(self.layers), self.key, self.platform,
                    list(self.env), list(self.build_args), None, self.stored or self.parent_id)
        for name, value in changes.items():
            setattr(out, name, value)
        return out

    @property
    def cfg(self) -> dict:
        return self.config.setdefault("config", {})

    @property
    def digests(self) -> list[str]:
        return [layer.descriptor.digest for layer in self.layers]


@dataclass
class StageRun:
    """A stage being (or done being) built."""

    stage: Stage
    state: State | None = None
    rootfs: Rootfs | None = None
    done: bool = False
    total: int = 0
    index: int = 0
    label: str = ""


@dataclass
class Options:
    tags: list[Reference] = field(default_factory=list)
    build_args: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    no_cache: bool = False
    platform: Platform | None = None
    labels: dict[str, str] = field(default_factory=dict)


def _clean_abs(path: str) -> str:
    return "/" + "/".join(components(posixpath.normpath("/" + path)))


def _summarize(doc: str) -> str:
    lines = doc.strip().replace("\r\n", "\n").split("\n")
    return lines[0] + ("..." if len(lines) > 1 else "")


def _parse_chmod(text: str) -> int | None:
    if not text:
        return None
    try:
        value = int(text, 8)
    except ValueError:
        value = -1
    if value < 0 or value > 0o7777:
        raise InstructionError(
            f"invalid chmod parameter: '{text}'. it should be octal string and between 0 and 07777")
    return value


def _check_signal(text: str) -> None:
    name = text.upper()
    if name.isdigit():
        if int(name) == 0:
            raise InstructionError(f"invalid signal: {text}")
        return
    if not name.startswith("SIG"):
        name = "SIG" + name
    if name.startswith("SIGRTMIN") or name.startswith("SIGRTMAX"):
        return
    if not hasattr(signal_module, name):
        raise InstructionError(f"invalid signal: {text}")


def _port_specs(values: list[str]) -> list[str]:
    out = []
    for raw in values:
        parts = raw.split(":")
        container = parts[-1]
        port, _, proto = container.partition("/")
        proto = (proto or "tcp").lower()
        if not port:
            raise InstructionError(f"no port specified: {raw}<empty>")
        if proto not in ("tcp", "udp", "sctp"):
            raise InstructionError(f"invalid proto: {proto}")
        start, sep, end = port.partition("-")
        try:
            lo, hi = int(start), int(end) if sep else int(start)
            if not (0 <= lo <= 65535 and 0 <= hi <= 65535) or hi < lo:
                raise ValueError
        except ValueError:
            raise InstructionError(f"invalid containerPort: {port}") from None
        out += [f"{p}/{proto}" for p in range(lo, hi + 1)]
    return out


class Builder:
    """Builds the stages a target needs, in Dockerfile order."""

    def __init__(self, engine, result: Result, meta: list[Arg], stages: list[Stage],
                 context_loader, options: Options, reporter: Reporter,
                 cancel: threading.Event | None, workdir: Path) -> None:
        self.engine = engine
        self.store = engine.store
        self.result = result
        self.meta = meta
        self.stages = stages
        self.context: SourceTree | None = None
        self._context_loader = context_loader
        self.opts = options
        self.reporter = reporter
        self.cancel = cancel
        self.workdir = workdir
        self.cache = BuildCache(self.store)
        self.lex = ShellLex(result.escape_token)
        self.display_lex = ShellLex(result.escape_token, raw_quotes=True, skip_unset_env=True)
        self.raw_lex = ShellLex("\\", skip_process_quotes=True)
        self.runs: list[StageRun] = [StageRun(stage) for stage in stages]
        self.epoch = self._epoch()
        self.target_platform = options.platform or host_platform()
        self.global_args: dict[str, str] = {}
        self.consumed: set[str] = set()
        self._context_loaded = False
        self._image_roots: dict[str, Rootfs] = {}
        self._views: dict[tuple, IndexView] = {}

    # -- setup ---------------------------------------------------------------------

    def _epoch(self) -> int | None:
        value = self.opts.build_args.get("SOURCE_DATE_EPOCH", "")
        if not value:
            return None
        try:
            return int(value)
        except ValueError:
            raise StrataError(f"invalid SOURCE_DATE_EPOCH {value!r}: expected seconds since 1970") from None

    def _now(self) -> str:
        return rfc3339(self.epoch if self.epoch is not None else time.time())

    def _error(self, node_or_ins, reason: str, step: str = "") -> BuildError:
        node = getattr(node_or_ins, "node", node_or_ins)
        return BuildError(reason, step=step, filename=self.result.filename,
                          line=node.start_line or None, end_line=node.end_line or None,
                          source_lines=self.result.source_lines)

    def _default_args(self, target: str) -> dict[str, str]:
        build = host_platform()
        tp = self.target_platform
        pairs = {
            "BUILDPLATFORM": str(build), "BUILDOS": build.os, "BUILDARCH": build.architecture,
            "BUILDVARIANT": build.variant or "", "TARGETPLATFORM": str(tp), "TARGETOS": tp.os,
            "TARGETARCH": tp.architecture, "TARGETVARIANT": tp.variant or "", "TARGETSTAGE": target,
        }
        for key in pairs:
            if key in self.opts.build_args:
                pairs[key] = self.opts.build_args[key]
        return pairs

    def _meta_args(self, target: str) -> None:
        args = self._default_args(target)
        for ins in self.meta:
            for key, value in ins.pairs:
                self.consumed.add(key)
                if key in self.opts.build_args:
                    args[key] = self.opts.build_args[key]
                elif value is not None:
                    try:
                        args[key] = self.lex.process_word(value, args)
                    except ShellError as exc:
                        raise self._error(ins, str(exc)) from None
        self.global_args = args

    def _find_stage(self, name: str) -> StageRun | None:
        lowered = name.lower()
        for run in self.runs:
            if run.stage.name and run.stage.name == lowered:
                return run
        return None

    def _stage_ref(self, text: str, current: int) -> StageRun | None:
        """The stage a ``--from`` names (by name or index), or None for an image."""
        run = self._find_stage(text)
        if run is not None:
            return run
        if text.isdigit():
            index = int(text)
            if index >= len(self.runs):
                raise InstructionError(f"invalid stage index {index}")
            return self.runs[index]
        return None

    def _reachable(self, target: StageRun) -> list[StageRun]:
        need: set[int] = set()
        stack = [target]
        while stack:
            run = stack.pop()
            if run.stage.index in need:
                continue
            need.add(run.stage.index)
            base = self._find_stage(self._expand_base(run.stage))
            if base is not None and base.stage.index < run.stage.index:
                stack.append(base)
            for ins in run.stage.commands:
                if isinstance(ins, Copy) and ins.from_:
                    if "$" in ins.from_:
                        raise self._error(ins, "dockerfile parse error on line "
                                          f"{ins.line}: variable expansion is not supported for --from, "
                                          "define a new stage with FROM using ARG from global scope as a workaround")
                    try:
                        dep = self._stage_ref(ins.from_, run.stage.index)
                    except InstructionError as exc:
                        raise self._error(ins, str(exc)) from None
                    if dep is not None:
                        if dep.stage.index >= run.stage.index:
                            raise self._error(ins, f'cannot copy from stage "{ins.from_}", it needs to be '
                                              f'defined before current stage "{run.stage.display_name}"')
                        stack.append(dep)
        return [run for run in self.runs if run.stage.index in need]

    def _expand_base(self, stage: Stage) -> str:
        try:
            name = self.lex.process_word(stage.base, self.global_args)
        except ShellError as exc:
            raise self._error(stage.node, str(exc)) from None
        if not name:
            raise self._error(stage.node, f"base name ({stage.base}) should not be blank")
        return name

    # -- the build -------------------------------------------------------------------

    def run(self) -> tuple[State, StageRun]:
        if self.opts.target:
            target = self._find_stage(self.opts.target)
            if target is None:
                names = ", ".join(r.stage.name for r in self.runs if r.stage.name) or "none"
                raise NotFound(f'target stage "{self.opts.target}" could not be found (stages: {names})')
        else:
            target = self.runs[-1]
        self._meta_args(target.stage.name or "default")
        needed = self._reachable(target)
        multi = len(self.runs) > 1
        for run in needed:
            run.label = run.stage.display_name if multi else ""
        self._load_metadata(needed)
        self.context = self._context_loader()
        for run in needed:
            self._build_stage(run)
        return target.state, target

    def _load_metadata(self, runs: list[StageRun]) -> None:
        seen = set()
        for run in runs:
            name = self._expand_base(run.stage)
            if name.lower() == "scratch" or self._find_stage(name) is not None or name in seen:
                continue
            seen.add(name)
            try:
                shown = str(parse_reference(name).tagged_or_latest())
            except InvalidReference:
                shown = name
            vertex = self.reporter.vertex(f"[internal] load metadata for {shown}")
            vertex.done()

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("build cancelled")

    def _build_stage(self, run: StageRun) -> None:
        stage = run.stage
        base_name = self._expand_base(stage)
        platform = self.target_platform
        if stage.platform:
            try:
                text = self.lex.process_word(stage.platform, self.global_args)
            except ShellError as exc:
                raise self._error(stage.node, str(exc)) from None
            if not text:
                raise self._error(stage.node, f"empty platform value from expression {stage.platform}")
            try:
                platform = parse_platform(text)
            except InvalidReference as exc:
                raise self._error(stage.node, f"failed to parse platform {stage.platform}: {exc.message}") from None
        triggers: list[str] = []
        base_run = self._find_stage(base_name)
        if base_run is not None and base_run.stage.index < stage.index:
            base_state = base_run.state
            state = base_state.derive(key=step_key(base_state.key, "from-stage", {}),
                                      build_args=list(base_state.build_args))
            state.config["config"].pop("OnBuild", None)
            triggers = [ins.expression for ins in base_run.stage.commands if isinstance(ins, Onbuild)]
            run.total = 0
        elif base_name.lower() == "scratch":
            config = base_config(None, platform)
            state = State(config, [], step_key("", "from", {"scratch": str(platform), "epoch": self.epoch}),
                          platform, list(config["config"]["Env"]), [])
        else:
            state, triggers = self._from_image(run, base_name, platform)
        run.total += sum(1 for ins in stage.commands if ins.name in LAYER_INSTRUCTIONS)
        run.total += len(triggers)
        if base_run is None and base_name.lower() != "scratch":
            run.total += 1
            self._from_vertex(run, base_name, state)
        run.state = state
        for expression in triggers:
            try:
                node = parse_trigger(expression)
                node.start_line, node.end_line = stage.node.start_line, stage.node.end_line
                ins = parse_instruction(node)
            except (InstructionError, DockerfileSyntaxError, StrataError) as exc:
                raise self._error(stage.node, f"parsing ONBUILD trigger {expression!r}: {reason_of(exc)}") from None
            if isinstance(ins, Stage):
                raise self._error(stage.node, "FROM isn't allowed as an ONBUILD trigger")
            self._dispatch(run, ins, onbuild=True)
        for ins in stage.commands:
            self._dispatch(run, ins)
        run.done = True

    def _from_image(self, run: StageRun, name: str, platform: Platform) -> tuple[State, list[str]]:
        try:
            image_id = self.store.resolve(name)
        except NotFound:
            image_id = self._pull(run, name, platform)
        except InvalidReference as exc:
            raise self._error(run.stage.node, f"failed to parse stage name {name!r}: {exc.message}") from None
        img = self.store.image(image_id)
        config = base_config(img.config, platform)
        triggers = list(config["config"].pop("OnBuild", None) or [])
        layers = [LayerRef(Descriptor(_OCI_LAYER_TYPES.get(layer.media_type, layer.media_type),
                                      layer.digest, layer.size), layer.diff_id)
                  for layer in img.layers]
        key = step_key("", "from", {"image": image_id, "platform": str(platform), "epoch": self.epoch})
        state = State(config, layers, key, platform, list(config["config"]["Env"]), [],
                      None, None)
        state.config["_base_manifest"] = img.manifest_digest
        want = (platform.os, platform.architecture)
        if self.opts.platform is not None and (img.config.get("os"), img.config.get("architecture")) != want:
            self.reporter.status(
                f'WARNING: InvalidBaseImagePlatform: Base image {name} was pulled with platform '
                f'"{img.platform}", expected "{platform}" for current build (line {run.stage.node.start_line})')
        return state, triggers

    def _pull(self, run: StageRun, name: str, platform: Platform) -> str:
        try:
            ref = parse_reference(name)
        except InvalidReference as exc:
            raise self._error(run.stage.node, f"failed to parse stage name {name!r}: {exc.message}") from None
        if getattr(self.engine, "pull", None) is None:
            raise self._error(run.stage.node, f"{ref.tagged_or_latest()}: image not found in the store "
                              "(and this strata cannot pull: no registry client)")
        try:
            return self._pull_image(ref, platform)
        except StrataError as exc:
            raise self._error(run.stage.node, f"{ref.tagged_or_latest()}: image not found in the store, "
                              f"and pulling it failed: {exc.message}") from None

    def _pull_image(self, ref: Reference, platform: Platform) -> str:
        """Pull with the registry client; loopback registries may speak plain http, as in Docker."""
        pull = self.engine.pull
        kwargs: dict = {"platform": str(platform)}
        host = ref.domain.rsplit(":", 1)[0].strip("[]")
        if host in ("localhost", "::1") or host.startswith("127."):
            try:
                if "insecure" in inspect.signature(pull).parameters:
                    kwargs["insecure"] = [ref.domain]
            except (TypeError, ValueError):
                pass
        vertex = self.reporter.vertex(f"[internal] pull {ref.tagged_or_latest()}")
        try:
            result = pull(str(ref.tagged_or_latest()), **kwargs)
        except StrataError as exc:
            vertex.error(exc.message)
            raise
        vertex.done()
        image_id = getattr(result, "image_id", None) or (result if isinstance(result, str) else None)
        return image_id or self.store.resolve(str(ref.tagged_or_latest()))

    def _from_vertex(self, run: StageRun, name: str, state: State) -> None:
        try:
            shown = str(parse_reference(name).tagged_or_latest())
        except InvalidReference:
            shown = name
        digest = state.config.pop("_base_manifest", None)
        if digest:
            shown += f"@{digest}"
        vertex = self.reporter.vertex(self._prefix(run, f"FROM {shown}"))
        vertex.done()

    def _prefix(self, run: StageRun, text: str, onbuild: bool = False) -> str:
        if run.total == 0:
            return text
        run.index += 1
        width = int(1 + math.log10(run.total))
        label = f"{run.label} " if run.label else ""
        return f"[{label}{run.index:>{width}}/{run.total}] " + ("ONBUILD " if onbuild else "") + text

    # -- dispatch ------------------------------------------------------------------------

    def _env(self, state: State) -> dict[str, str]:
        return env_dict(state.env)

    def _expand(self, word: str, state: State) -> str:
        return self.lex.process_word(word, self._env(state))

    def _display(self, ins: Instruction, state: State) -> str:
        text = ins.original
        try:
            text = self.display_lex.process_word(text, self._env(state))
        except ShellError:
            pass
        first, sep, rest = text.partition(" ")
        return first.upper() + sep + rest

    def _dispatch(self, run: StageRun, ins: Instruction, onbuild: bool = False) -> None:
        self._check_cancel()
        handler = getattr(self, "_do_" + ins.name)
        try:
            handler(run, ins, onbuild)
        except (Cancelled, BuildError):
            raise
        except (StrataError, ShellError, InstructionError, OSError, DockerfileSyntaxError) as exc:
            vertex = getattr(run, "_vertex", None)
            reason = reason_of(exc)
            if vertex is not None:
                vertex.error(reason)
            step = vertex.record.name if vertex is not None else ""
            raise self._error(ins, reason, step) from exc
        finally:
            run._vertex = None  # type: ignore[attr-defined]

    def _meta_step(self, run: StageRun, text: str, payload: object) -> None:
        """Finish a metadata-only step: history entry, created time, key."""
        state = run.state
        created = rfc3339(self.epoch) if self.epoch is not None else state.config.get("created")
        state.config.setdefault("history", []).append(history_entry(created, text, True, False))
        if created:
            state.config["created"] = created
        state.key = step_key(state.key, "meta", [text, payload])

    def _begin(self, run: StageRun) -> State:
        run.state = run.state.derive()
        return run.state

    def _do_env(self, run: StageRun, ins: KeyValues, onbuild: bool) -> None:
        before = run.state
        pairs = [(self._expand(k, before), self._expand(v, before)) for k, v in ins.pairs]
        state = self._begin(run)
        for key, value in pairs:
            state.cfg["Env"] = add_env(state.cfg.get("Env") or [], key, value)
            state.env = add_env(state.env, key, value)
        self._meta_step(run, "ENV " + " ".join(f"{k}={v}" for k, v in pairs), None)

    def _do_label(self, run: StageRun, ins: KeyValues, onbuild: bool) -> None:
        before = run.state
        pairs = [(self._expand(k, before), self._expand(v, before)) for k, v in ins.pairs]
        state = self._begin(run)
        labels = dict(state.cfg.get("Labels") or {})
        for key, value in pairs:
            labels[key] = value
        state.cfg["Labels"] = labels
        self._meta_step(run, "LABEL " + " ".join(f"{k}={v}" for k, v in pairs), None)

    def _do_maintainer(self, run: StageRun, ins: Maintainer, onbuild: bool) -> None:
        state = self._begin(run)
        state.config["author"] = ins.maintainer
        self._meta_step(run, f"MAINTAINER {ins.maintainer}", None)

    def _do_arg(self, run: StageRun, ins: Arg, onbuild: bool) -> None:
        state = self._begin(run)
        texts = []
        for key, value in ins.pairs:
            self.consumed.add(key)
            has_value = key in self.opts.build_args
            if value is None and not has_value and key in self.global_args:
                value = self.global_args[key]
            elif has_value:
                value = self.opts.build_args[key]
            elif value is not None:
                value = self.lex.process_word(value, self._env(state))
            if value is not None:
                state.env = add_env(state.env, key, value)
            state.build_args.append((key, value))
            texts.append(key if value is None else f"{key}={value}")
        self._meta_step(run, "ARG " + " ".join(texts), None)

    def _do_user(self, run: StageRun, ins: Word, onbuild: bool) -> None:
        user = self._expand(ins.value, run.state)
        state = self._begin(run)
        state.cfg["User"] = user
        self._meta_step(run, f"USER {user}", None)

    def _do_expose(self, run: StageRun, ins: Words, onbuild: bool) -> None:
        words: list[str] = []
        for value in ins.values:
            words += self.lex.process_words(value, self._env(run.state))
        ports = _port_specs(words)
        state = self._begin(run)
        exposed = dict(state.cfg.get("ExposedPorts") or {})
        for port in ports:
            exposed[port] = {}
        state.cfg["ExposedPorts"] = exposed
        self._meta_step(run, "EXPOSE " + go_list_v(ports), None)

    def _do_volume(self, run: StageRun, ins: Words, onbuild: bool) -> None:
        values = [self._expand(v, run.state) for v in ins.values]
        if any(not v for v in values):
            raise InstructionError("VOLUME specified can not be an empty string")
        state = self._begin(run)
        volumes = dict(state.cfg.get("Volumes") or {})
        for value in values:
            volumes[value] = {}
        state.cfg["Volumes"] = volumes
        self._meta_step(run, "VOLUME " + go_list_v(values), None)

    def _do_stopsignal(self, run: StageRun, ins: Word, onbuild: bool) -> None:
        sig = self._expand(ins.value, run.state)
        _check_signal(sig)
        state = self._begin(run)
        state.cfg["StopSignal"] = sig
        self._meta_step(run, f"STOPSIGNAL {sig}", None)

    def _do_shell(self, run: StageRun, ins: Shell, onbuild: bool) -> None:
        state = self._begin(run)
        state.cfg["Shell"] = list(ins.shell)
        self._meta_step(run, "SHELL " + go_list_v(ins.shell), None)

    def _shell(self, state: State) -> list[str]:
        return list(state.cfg.get("Shell") or DEFAULT_SHELL)

    def _do_cmd(self, run: StageRun, ins: CommandLine, onbuild: bool) -> None:
        state = self._begin(run)
        args = self._shell(state) + [" ".join(ins.cmd)] if ins.prepend_shell else list(ins.cmd)
        state.cfg["Cmd"] = args
        state.cfg["ArgsEscaped"] = True
        run.cmd_set = True  # type: ignore[attr-defined]
        self._meta_step(run, "CMD " + go_list_q(args), None)

    def _do_entrypoint(self, run: StageRun, ins: CommandLine, onbuild: bool) -> None:
        state = self._begin(run)
        args = self._shell(state) + [" ".join(ins.cmd)] if ins.prepend_shell else list(ins.cmd)
        state.cfg["Entrypoint"] = args
        if not getattr(run, "cmd_set", False):
            state.cfg.pop("Cmd", None)
        self._meta_step(run, "ENTRYPOINT " + go_list_q(args), None)

    def _do_healthcheck(self, run: StageRun, ins: Healthcheck, onbuild: bool) -> None:
        state = self._begin(run)
        health = {"Test": list(ins.test), "Interval": ins.interval, "Timeout": ins.timeout,
                  "StartPeriod": ins.start_period, "StartInterval": ins.start_interval,
                  "Retries": ins.retries}
        state.cfg["Healthcheck"] = health
        self._meta_step(run, healthcheck_text(health), None)

    def _do_onbuild(self, run: StageRun, ins: Onbuild, onbuild: bool) -> None:
        state = self._begin(run)
        state.cfg["OnBuild"] = list(state.cfg.get("OnBuild") or []) + [ins.expression]
        state.key = step_key(state.key, "onbuild", ins.expression)

    # -- layer steps ------------------------------------------------------------------

    def _vertex(self, run: StageRun, name: str, onbuild: bool) -> Vertex:
        vertex = self.reporter.vertex(self._prefix(run, name, onbuild))
        run._vertex = vertex  # type: ignore[attr-defined]
        return vertex

    def _cached(self, run: StageRun, key: str, vertex: Vertex) -> bool:
        if self.opts.no_cache:
            return False
        image_id = self.cache.lookup(key)
        if image_id is None:
            return False
        img = self.store.image(image_id)
        state = run.state.derive(config=copy.deepcopy(img.config), key=key)
        state.layers = [LayerRef(l.descriptor, l.diff_id) for l in img.layers]
        state.stored = image_id
        state.parent_id = run.state.stored or run.state.parent_id
        run.state = state
        vertex.cached()
        return True

    def _commit_layer(self, run: StageRun, staged, key: str, created_by: str, suffix: bool) -> None:
        before = run.state
        state = before.derive(key=key)
        created = self._now()
        state.config.setdefault("history", []).append(history_entry(created, created_by, False, suffix))
        state.config.setdefault("rootfs", {"type": "layers", "diff_ids": []})
        state.config["rootfs"]["diff_ids"] = list(state.config["rootfs"].get("diff_ids") or []) + [staged.diff_id]
        state.config["created"] = created
        media = mt.OCI_LAYER_GZIP if staged.compression == "gzip" else mt.OCI_LAYER
        state.layers.append(LayerRef(Descriptor(media, staged.digest, staged.size), staged.diff_id))
        state.stored = self._store(state, [staged], intermediate=True, parent=state.parent_id)
        self.cache.record(key, state.stored)
        run.state = state

    def _store(self, state: State, staged: list, intermediate: bool, parent: str | None,
               tags: list[Reference] = ()) -> str:
        config_bytes = encode(state.config)
        manifest = build_manifest(config_bytes, [l.descriptor for l in state.layers])
        new = NewImage(manifest, config_bytes, mt.OCI_MANIFEST, list(staged), tags=list(tags),
                       intermediate=intermediate, parent=parent)
        try:
            results = self.store.commit([], list(staged), [new])
        finally:
            self.store.discard([], list(staged))
        return results[0].image_id

    def _rootfs(self, run: StageRun) -> Rootfs:
        if run.rootfs is None:
            path = self.workdir / f"stage-{run.stage.index}"
            run.rootfs = Rootfs(path, self._open_uncompressed)
        return run.rootfs

    def _open_uncompressed(self, digest: str):
        return Layer(Descriptor("", digest, 0), "", self.store.blobs.open).uncompressed()

    def _sync(self, run: StageRun, vertex: Vertex | None = None) -> Rootfs:
        rootfs = self._rootfs(run)
        rootfs.sync(run.state.digests)
        return rootfs

    def _view(self, run: StageRun) -> View:
        if run.rootfs is not None:
            return DirView(str(self._sync(run).path))
        layers = [Layer(l.descriptor, l.diff_id, self.store.blobs.open) for l in run.state.layers]
        cache_key = tuple(l.diff_id for l in layers)
        view = self._views.get(cache_key)
        if view is None:
            indexes = [self.store.layer_index(layer) for layer in layers]
            view = IndexView(indexes, lambda li: layers[li].uncompressed())
            self._views[cache_key] = view
        return view

    def _do_workdir(self, run: StageRun, ins: Word, onbuild: bool) -> None:
        path = self._expand(ins.value, run.state)
        current = run.state.cfg.get("WorkingDir") or "/"
        wd = _clean_abs(path if path.startswith("/") else posixpath.join(current, path))
        state = self._begin(run)
        state.cfg["WorkingDir"] = wd
        if wd == "/":
            self._meta_step(run, f"WORKDIR {wd}", None)
            return
        user = state.cfg.get("User") or ""
        key = step_key(state.key, "workdir", {"dir": wd, "user": user, "epoch": self.epoch})
        vertex = self._vertex(run, self._display(ins, run.state), onbuild)
        if self._cached(run, key, vertex):
            return
        view = self._view(run)
        chown = None
        if user:
            resolved = resolve_user(user, view.read)
            chown = (resolved.uid, resolved.gid)
        writer = LayerWriter(self.store.blobs, self.epoch)
        try:
            target = view.resolve(wd.lstrip("/"), follow_last=True)
            node = view.get(target)
            if node is None or node.kind != "dir":
                plan = CopyPlan(view, chown=chown, chmod=None, epoch=self.epoch, now=int(time.time()))
                plan.ensure_dir(wd.lstrip("/"))
                plan.write(writer)
            staged = writer.finish()
        except BaseException:
            writer.abort()
            raise
        self._commit_layer(run, staged, key, f"WORKDIR {wd}", suffix=False)
        vertex.done()

    # -- RUN ----------------------------------------------------------------------------

    def _do_run(self, run: StageRun, ins: CommandLine, onbuild: bool) -> None:
        state = run.state
        args = list(ins.cmd)
        name = self._display(ins, state)
        pipes: list[tuple[str, str]] = []
        if ins.files:
            if len(args) != 1 or not ins.prepend_shell:
                raise InstructionError(f"parsing produced an invalid run command: {go_list_v(args)}")
            try:
                doc = parse_heredoc(args[0])
            except DockerfileSyntaxError:
                doc = None
            if doc is not None:
                first = ins.files[0]
                data = chomp_heredoc_content(first.content) if first.chomp else first.content
                if data.startswith("#!"):
                    pipes.append((first.name, data))
                    args = ["/dev/pipes/" + first.name]
                else:
                    args = [data]
                name += f" ({_summarize(first.content)})"
            else:
                args = [args[0] + "".join("\n" + f.content + f.name for f in ins.files)]
        if ins.prepend_shell:
            args = self._shell(state) + [" ".join(args)]
        env = list(state.env)
        keyed_env = sorted(env)
        for key, value in sorted(self.opts.build_args.items()):
            if key in PROXY_ARGS and not any(e.partition("=")[0] == key for e in env):
                env.append(f"{key}={value}")
                self.consumed.add(key)
        created_by = "RUN " + run_command_string(args, state.build_args, self._env(state))
        payload = {"args": args, "env": keyed_env, "user": state.cfg.get("User") or "",
                   "workdir": state.cfg.get("WorkingDir") or "/", "network": ins.network,
                   "pipes": pipes, "epoch": self.epoch}
        key = step_key(state.key, "run", payload)
        vertex = self._vertex(run, name, onbuild)
        if self._cached(run, key, vertex):
            return
        rootfs = self._sync(run)
        root = str(rootfs.path)
        user = resolve_user(state.cfg.get("User") or "", DirView(root).read)
        if not any(e.partition("=")[0] == "HOME" for e in env):
            env.append(f"HOME={user.home}")
        cwd = state.cfg.get("WorkingDir") or "/"
        before = snapshot(root)
        cwd_host = scoped_path(root, cwd.lstrip("/"), follow_last=True)
        if not os.path.isdir(cwd_host):
            os.makedirs(cwd_host, mode=0o755, exist_ok=True)
        binds = []
        pipe_dir = None
        if pipes:
            pipe_dir = Path(tempfile.mkdtemp(prefix="pipes-", dir=self.workdir))
            for pipe_name, data in pipes:
                host = pipe_dir / pipe_name
                host.write_text(data)
                host.chmod(0o755)
                binds.append((str(host), "/dev/pipes/" + pipe_name))
        for host_file in ("/etc/resolv.conf", "/etc/hosts"):
            inside = os.path.join(root, host_file.lstrip("/"))
            if os.path.isfile(host_file) and os.path.isfile(inside) and not os.path.islink(inside):
                binds.append((host_file, host_file))
        spec = sandbox.RunSpec(Path(root), args, env, cwd, user.uid, user.gid, user.groups,
                               ins.network, binds)
        try:
            code = sandbox.run(spec, vertex.log, self.cancel, self.workdir)
        finally:
            if pipe_dir is not None:
                for child in pipe_dir.iterdir():
                    child.unlink()
                pipe_dir.rmdir()
        if code != 0:
            message = (f'process "{" ".join(args)}" did not complete successfully: exit code: {code}')
            vertex.error(message)
            raise BuildError(message, step=vertex.record.name, filename=self.result.filename,
                             line=ins.line or None, end_line=ins.end_line or None,
                             source_lines=self.result.source_lines, exit_code=code)
        after = snapshot(root)
        staged = self._write_diff(root, before, after)
        self._commit_layer(run, staged, key, created_by, suffix=True)
        rootfs.mark(run.state.digests)
        vertex.done()

    def _write_diff(self, root: str, before, after):
        changes = diff(before, after)
        writer = LayerWriter(self.store.blobs, self.epoch)
        try:
            rows: list[tuple[str, str, str]] = []
            for path in changes.entries:
                rows.append((tree_key(path), "entry", path))
            for path in changes.whiteouts:
                parent, _, base = path.rpartition("/")
                rows.append((tree_key(f"{parent}/.wh.{base}" if parent else f".wh.{base}"), "whiteout", path))
            for path in changes.opaque:
                rows.append((tree_key(f"{path}/.wh..wh..opq"), "opaque", path))
            rows.sort()
            links: dict[int, str] = {}
            uid_self, gid_self = os.getuid(), os.getgid()
            for _, kind, path in rows:
                if kind == "whiteout":
                    writer.add_whiteout(path)
                    continue
                if kind == "opaque":
                    writer.add_opaque(path)
                    continue
                info = after[path]
                host = os.path.join(root, path)
                uid, gid = info.uid, info.gid
                if not IS_ROOT:
                    uid = 0 if uid == uid_self else uid
                    gid = 0 if gid == gid_self else gid
                mtime = info.mtime_ns // 10**9
                if info.kind == "dir":
                    writer.add_dir(path, info.mode, uid, gid, mtime, xattrs=read_xattrs(host))
                elif info.kind == "file":
                    if info.nlink > 1 and info.ino in links:
                        writer.add_hardlink(path, links[info.ino], info.mode, uid, gid, mtime)
                        continue
                    if info.nlink > 1:
                        links[info.ino] = path
                    writer.add_file(path, host, info.size, info.mode, uid, gid, mtime,
                                    xattrs=read_xattrs(host))
                elif info.kind == "symlink":
                    writer.add_symlink(path, info.link, uid, gid, mtime)
                elif info.kind in ("char", "block"):
                    writer.add_device(path, info.kind, os.major(info.rdev), os.minor(info.rdev),
                                      info.mode, uid, gid, mtime)
                elif info.kind == "fifo":
                    writer.add_fifo(path, info.mode, uid, gid, mtime)
            return writer.finish()
        except BaseException:
            writer.abort()
            raise

    # -- COPY / ADD -------------------------------------------------------------------------

    def _do_copy(self, run: StageRun, ins: Copy, onbuild: bool) -> None:
        self._copy(run, ins, onbuild)

    def _do_add(self, run: StageRun, ins: Copy, onbuild: bool) -> None:
        self._copy(run, ins, onbuild)

    def _source_tree(self, run: StageRun, ins: Copy) -> tuple[SourceTree | None, str]:
        """The tree COPY reads from and the part of the cache key that names it."""
        if not ins.from_:
            if self.context is None:
                return None, "context:none"
            if not self._context_loaded:
                self._context_loaded = True
                vertex = self.reporter.vertex("[internal] load build context")
                vertex.detail("transferring context: done")
                vertex.done()
            return self.context, "context"
        source = self._stage_ref(ins.from_, run.stage.index)
        if source is not None:
            if not source.done:
                raise InstructionError(f'cannot copy from stage "{ins.from_}", it needs to be defined '
                                       f'before current stage "{run.stage.display_name}"')
            return None, f"stage:{source.state.key}"
        try:
            image_id = self.store.resolve(ins.from_)
        except NotFound:
            image_id = self._pull_for_copy(ins)
        return None, f"image:{image_id}"

    def _pull_for_copy(self, ins: Copy) -> str:
        if getattr(self.engine, "pull", None) is None:
            raise NotFound(f'stage or image "{ins.from_}" not found: no stage of that name and no such '
                           "image in the store")
        try:
            return self._pull_image(parse_reference(ins.from_), self.target_platform)
        except StrataError as exc:
            raise NotFound(f'stage or image "{ins.from_}" not found: no stage of that name, and pulling '
                           f"it failed: {exc.message}") from None

    def _materialize_from(self, run: StageRun, ins: Copy) -> SourceTree:
        source = self._stage_ref(ins.from_, run.stage.index)
        if source is not None:
            rootfs = self._sync(source)
            return SourceTree(rootfs.path, keep_owner=True, label=source.stage.display_name)
        image_id = self.store.resolve(ins.from_)
        rootfs = self._image_roots.get(image_id)
        if rootfs is None:
            rootfs = Rootfs(self.workdir / f"image-{image_id[7:19]}", self._open_uncompressed)
            self._image_roots[image_id] = rootfs
        rootfs.sync([layer.digest for layer in self.store.image(image_id).layers])
        return SourceTree(rootfs.path, keep_owner=True, label=ins.from_)

    def _copy(self, run: StageRun, ins: Copy, onbuild: bool) -> None:
        state = run.state
        what = "ADD" if ins.is_add else "COPY"
        env = self._env(state)
        sources = [self.lex.process_word(s, env) for s in ins.sources]
        dest = self.lex.process_word(ins.dest, env)
        chown = self.lex.process_word(ins.chown, env) if ins.chown else ""
        checksum = self.lex.process_word(ins.checksum, env) if ins.checksum else ""
        contents = [(c.path, self.raw_lex.process_word(c.data, env) if c.expand else c.data)
                    for c in ins.contents]
        chmod = _parse_chmod(ins.chmod)
        if ins.excludes:
            raise InstructionError(f"{what} --exclude is not supported by strata")
        if checksum:
            if len(sources) != 1:
                raise InstructionError("checksum can't be specified for multiple sources")
            if not is_url(sources[0]):
                raise InstructionError("checksum requires HTTP(S) or Git sources")
        tree, tree_key_part = self._source_tree(run, ins)
        vertex = self._vertex(run, self._display(ins, state), onbuild)
        workdir = state.cfg.get("WorkingDir") or "/"
        dir_hint = dest.endswith("/") or dest in ("", ".") or dest.endswith("/.")
        dest_abs = _clean_abs(dest if dest.startswith("/") else posixpath.join(workdir, dest or "."))
        items: list[tuple] = []
        wildcard = False
        payload_items: list = []
        for src in sources:
            if is_url(src):
                if not ins.is_add:
                    raise InstructionError("source can't be a URL for COPY")
                download = fetch(src, self.workdir, checksum)
                items.append(("url", src, download))
                payload_items.append(["url", src, download.digest])
            elif is_git(src) and ins.is_add:
                raise InstructionError("ADD of a git repository is not supported by strata")
            elif ins.from_:
                wildcard = wildcard or has_wildcards(src)
                items.append(("from", src))
                payload_items.append(["from", src])
            else:
                if tree is None:
                    raise NotFound(f'failed to compute cache key: "/{src.lstrip("/")}": not found '
                                   "(the build has no context)")
                wildcard = wildcard or has_wildcards(src)
                try:
                    matched = tree.resolve(src)
                except NotFound as exc:
                    raise NotFound(f"failed to compute cache key: failed to calculate checksum of ref: "
                                   f"{exc.message}") from None
                for rel in matched:
                    items.append(("tree", rel))
                    payload_items.append(["tree", rel, tree.digest(rel)])
        for path, data in contents:
            items.append(("content", path, data))
        multi = len(sources) + len(contents) > 1 or wildcard
        flags = (f" --chown={chown}" if chown else "") + (f" --chmod={ins.chmod}" if ins.chmod else "")
        created_by = (f"{what}{flags} " + " ".join(sources + [f"<<{p}" for p, _ in contents] + [dest]))
        payload = {"what": what, "dest": dest_abs, "dir": dir_hint, "chown": chown, "chmod": ins.chmod,
                   "source": tree_key_part, "items": payload_items, "contents": contents,
                   "unpack": ins.unpack, "epoch": self.epoch, "user": state.cfg.get("User") or ""}
        key = step_key(state.key, "copy", payload)
        if self._cached(run, key, vertex):
            return
        if ins.from_:
            tree = self._materialize_from(run, ins)
            expanded = []
            for src in [item[1] for item in items if item[0] == "from"]:
                try:
                    expanded += [("tree", rel) for rel in tree.resolve(src)]
                except NotFound as exc:
                    raise NotFound(f"failed to compute cache key: failed to calculate checksum of ref: "
                                   f"{exc.message}") from None
            items = expanded + [i for i in items if i[0] != "from"]
        view = self._view(run)
        owner = resolve_chown(chown, view.read) if chown else None
        plan = CopyPlan(view, chown=owner, chmod=chmod, epoch=self.epoch, now=int(time.time()))
        dest_rel = dest_abs.lstrip("/")
        dest_is_dir = dir_hint or multi or plan.is_dir(dest_rel)
        extract_dirs = []
        try:
            for item in items:
                if item[0] == "tree":
                    rel = item[1]
                    entry = tree.item(rel, follow=True)
                    if entry.is_dir:
                        plan.copy_tree(tree, rel, dest_rel)
                    elif ins.is_add and ins.unpack is not False and is_archive(entry.host):
                        out = Path(tempfile.mkdtemp(prefix="unpack-", dir=self.workdir))
                        out.chmod(0o755)
                        extract_dirs.append(out)
                        with open(entry.host, "rb") as f:
                            apply_layer(out, f, mode="r|*")
                        plan.copy_tree(SourceTree(out, keep_owner=True), "", dest_rel)
                    else:
                        base = rel.rpartition("/")[2] or os.path.basename(entry.host)
                        target = f"{dest_rel}/{base}" if dest_is_dir else dest_rel
                        plan.copy_file(tree, entry.host, entry.st, target.lstrip("/"))
                elif item[0] == "url":
                    download = item[2]
                    target = f"{dest_rel}/{download.filename}" if dest_is_dir else dest_rel
                    size = download.path.stat().st_size
                    plan.add_host_file(target.lstrip("/"), str(download.path), size, 0o600,
                                       download.mtime if download.mtime is not None else int(time.time()))
                else:
                    _, path, data = item
                    target = f"{dest_rel}/{path}" if dest_is_dir else dest_rel
                    plan.add_bytes(target.lstrip("/"), data.encode("utf-8", "surrogateescape"), 0o644)
            writer = LayerWriter(self.store.blobs, self.epoch)
            try:
                plan.write(writer, keep_xattrs=bool(ins.from_))
                staged = writer.finish()
            except BaseException:
                writer.abort()
                raise
        finally:
            for out in extract_dirs:
                rmtree(out)
            for item in items:
                if item[0] == "url":
                    item[2].path.unlink(missing_ok=True)
        self._commit_layer(run, staged, key, created_by, suffix=True)
        vertex.done()

    # -- the result --------------------------------------------------------------------------

    def finish(self, state: State) -> str:
        """Record the target's image with its tags (and --label labels); returns its ID."""
        vertex = self.reporter.vertex("exporting to image")
        vertex.detail("exporting layers done")
        final = state.derive()
        final.config.pop("_base_manifest", None)
        if self.opts.labels:
            labels = dict(final.cfg.get("Labels") or {})
            labels.update(self.opts.labels)
            final.cfg["Labels"] = labels
        if final.config.get("created") is None and self.epoch is not None:
            final.config["created"] = rfc3339(self.epoch)
        parent = state.stored if (state.stored and self.opts.labels) else state.parent_id
        record = self.store.meta.image(parent) if parent else None
        if record is not None and not record.intermediate:
            parent = None
        image_id = self._store(final, [], intermediate=False, parent=parent, tags=self.opts.tags)
        vertex.detail(f"writing image {image_id} done")
        for tag in self.opts.tags:
            vertex.detail(f"naming to {tag} done")
        vertex.done()
        return image_id


__all__ = ["Builder", "LayerRef", "Options", "State", "StageRun"]
