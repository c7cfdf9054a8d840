"""The image config a build produces, serialised as BuildKit writes it.

BuildKit decodes the base config into its ``DockerOCIImage`` struct and
encodes the result with Go's ``encoding/json``: fields in struct order, empty
fields omitted, map keys sorted, unknown fields dropped.  The helpers here
also format history ``created_by`` strings with Go's ``%q`` and ``%v``.
"""

from __future__ import annotations

import copy
import json

from engine.platforms import Platform

from .shellwords import go_quote

HISTORY_COMMENT = "buildkit.dockerfile.v0"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_SHELL = ["/bin/sh", "-c"]

_TOP = ("created", "author", "architecture", "os", "os.version", "os.features", "variant",
        "config", "rootfs", "history")
_CONFIG = ("User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir", "Labels",
           "StopSignal", "ArgsEscaped", "Healthcheck", "OnBuild", "Shell")
_HEALTH = ("Test", "Interval", "Timeout", "StartPeriod", "StartInterval", "Retries")
_HISTORY = ("created", "created_by", "author", "comment", "empty_layer")
_MAPS = ("ExposedPorts", "Volumes", "Labels")


def _ordered(obj: dict, keys: tuple[str, ...]) -> dict:
    return {k: obj[k] for k in keys if obj.get(k) not in (None, "", [], {}, False, 0)}


def normalize(config: dict) -> dict:
    """*config* reduced to BuildKit's fields and order (a new dict)."""
    cfg = dict(config.get("config") or {})
    out_cfg = {}
    for key in _CONFIG:
        value = cfg.get(key)
        if value in (None, "", [], {}, False):
            continue
        if key in _MAPS:
            value = {k: (v if key == "Labels" else {}) for k, v in sorted(value.items())}
        elif key == "Healthcheck":
            value = _ordered(value, _HEALTH)
            if not value:
                continue
        out_cfg[key] = value
    out = {}
    for key in _TOP:
        if key == "config":
            out["config"] = out_cfg
        elif key == "rootfs":
            rootfs = config.get("rootfs") or {}
            out["rootfs"] = {"type": rootfs.get("type") or "layers",
                             "diff_ids": list(rootfs.get("diff_ids") or [])}
        elif key == "history":
            history = [_ordered(h, _HISTORY) for h in config.get("history") or []]
            if history:
                out["history"] = history
        elif config.get(key) not in (None, "", []):
            out[key] = config[key]
    return out


def encode(config: dict) -> bytes:
    return json.dumps(normalize(config), separators=(",", ":"), ensure_ascii=False).encode()


def base_config(config: dict | None, platform: Platform) -> dict:
    """The starting config of a stage: the base's (or scratch's), with PATH always set."""
    if config is None:
        out = {"architecture": platform.architecture, "os": platform.os, "config": {},
               "rootfs": {"type": "layers", "diff_ids": []}, "history": []}
        if platform.variant:
            out["variant"] = platform.variant
    else:
        out = copy.deepcopy(config)
        out.setdefault("config", {})
        out.setdefault("history", [])
    cfg = out["config"]
    env = list(cfg.get("Env") or [])
    if not any(e.partition("=")[0] == "PATH" for e in env):
        env.append("PATH=" + DEFAULT_PATH)
    cfg["Env"] = env
    return out


def add_env(env: list[str], key: str, value: str) -> list[str]:
    """Set *key* in a ``K=V`` list, in place of an existing entry (BuildKit's addEnv)."""
    out = list(env)
    for i, item in enumerate(out):
        if item.partition("=")[0] == key:
            out[i] = f"{key}={value}"
            return out
    out.append(f"{key}={value}")
    return out


def env_dict(env: list[str]) -> dict[str, str]:
    out = {}
    for item in env:
        key, _, value = item.partition("=")
        out[key] = value
    return out


def go_list_q(values: list[str]) -> str:
    """Go's ``%q`` of a []string: ``["a" "b"]``."""
    return "[" + " ".join(go_quote(v) for v in values) + "]"


def go_list_v(values: list[str]) -> str:
    """Go's ``%v`` of a []string: ``[a b]``."""
    return "[" + " ".join(values) + "]"


def go_duration(nanos: int) -> str:
    """Go's ``time.Duration.String()``."""
    if nanos == 0:
        return "0s"
    sign = "-" if nanos < 0 else ""
    n = abs(nanos)
    if n < 10**9:
        for unit, size in (("ms", 10**6), ("µs", 10**3), ("ns", 1)):
            if n >= size:
                return sign + _frac(n, size) + unit
    hours, rest = divmod(n, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    seconds = _frac(rest, 10**9) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return sign + seconds


def _frac(value: int, unit: int) -> str:
    whole, frac = divmod(value, unit)
    if not frac:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}." + f"{frac:0{digits}d}".rstrip("0")


def healthcheck_text(health: dict) -> str:
    """``HEALTHCHECK %+v`` of BuildKit's HealthcheckConfig."""
    return ("HEALTHCHECK {Test:" + go_list_v(health.get("Test") or [])
            + f" Interval:{go_duration(health.get('Interval', 0))}"
            + f" Timeout:{go_duration(health.get('Timeout', 0))}"
            + f" StartPeriod:{go_duration(health.get('StartPeriod', 0))}"
            + f" StartInterval:{go_duration(health.get('StartInterval', 0))}"
            + f" Retries:{health.get('Retries', 0)}}}")


def history_entry(created: str | None, created_by: str, empty_layer: bool, buildkit_suffix: bool) -> dict:
    """One history entry as BuildKit's ``commitToHistory`` writes it."""
    entry: dict = {}
    if created:
        entry["created"] = created
    entry["created_by"] = created_by + (" # buildkit" if buildkit_suffix else "")
    entry["comment"] = HISTORY_COMMENT
    if empty_layer:
        entry["empty_layer"] = True
    return entry


def run_command_string(args: list[str], build_args: list[tuple[str, str | None]],
                       env: dict[str, str]) -> str:
    """BuildKit's ``runCommandString``: ``|N K=V ... cmd`` when the stage declared ARGs."""
    values: dict[str, str] = {}
    for key, value in build_args:
        values[key] = env.get(key, value or "") if key in env else (value or "")
    parts = [f"{k}={v}" for k, v in values.items()]
    if parts:
        parts.insert(0, f"|{len(parts)}")
    return " ".join(parts + list(args))


__all__ = [
    "DEFAULT_PATH", "DEFAULT_SHELL", "HISTORY_COMMENT", "add_env", "base_config", "encode",
    "env_dict", "go_duration", "go_list_q", "go_list_v", "healthcheck_text", "history_entry",
    "normalize", "run_command_string",
]
