"""Listing images with docker's filters, and the inspect/history views."""

from __future__ import annotations

import fnmatch
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from .errors import InvalidReference
from .metadata import ImageRecord
from .reference import Reference, parse_reference


@dataclass
class ImageRow:
    """One row of ``images``: an image under one name (or ``<none>``)."""

    record: ImageRecord
    repository: str  # familiar repository or "<none>"
    tag: str         # tag or "<none>"
    digest: str      # repo digest or "<none>"

    @property
    def id(self) -> str:
        return self.record.id


def parse_time(text: str | None) -> datetime | None:
    """Parse an RFC 3339 timestamp as found in image configs."""
    if not text:
        return None
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$", text.strip())
    if not m:
        return None
    base, frac, zone = m.groups()
    frac = (frac or ".0")[:7]
    zone = "+00:00" if zone in (None, "Z") else zone
    try:
        dt = datetime.fromisoformat(f"{base}{frac}{zone}")
    except ValueError:
        return None
    if dt.year <= 1:
        return None
    return dt.astimezone(timezone.utc)


def created_ts(rec: ImageRecord) -> float:
    dt = parse_time(rec.created)
    return dt.timestamp() if dt else 0.0


def rows_for(records: list[ImageRecord], include_intermediate: bool = False) -> list[ImageRow]:
    """Expand records into rows (one per tag), newest first, as ``docker images``."""
    rows: list[ImageRow] = []
    for rec in sorted(records, key=lambda r: (-created_ts(r), r.id)):
        if rec.intermediate and not rec.tags and not include_intermediate:
            continue
        digests: dict[str, str] = {}
        for rd in rec.repo_digests:
            repo, _, digest = rd.partition("@")
            digests.setdefault(Reference(*repo.split("/", 1)).familiar_name, digest)
        if not rec.tags:
            if digests:
                for repo, digest in digests.items():
                    rows.append(ImageRow(rec, repo, "<none>", digest))
            else:
                rows.append(ImageRow(rec, "<none>", "<none>", "<none>"))
            continue
        for name in rec.tags:
            ref = parse_reference(name)
            repo = ref.familiar_name
            rows.append(ImageRow(rec, repo, ref.tag or "<none>", digests.get(repo, "<none>")))
    return rows


class ImageFilter:
    """docker's ``images --filter``: reference, dangling, before, since, label, until."""

    KEYS = ("reference", "dangling", "before", "since", "label", "label!", "until")

    def __init__(self, filters: list[str], resolve=None) -> None:
        self.terms: dict[str, list[str]] = {}
        for f in filters:
            key, sep, value = f.partition("=")
            if not sep:
                raise InvalidReference(f"bad format of filter (expected name=value): {f!r}")
            key = key.strip().lower()
            if key not in self.KEYS:
                raise InvalidReference(f"invalid filter {key!r}")
            self.terms.setdefault(key, []).append(value)
        self._resolve = resolve
        for value in self.terms.get("dangling", []):
            if value.lower() not in ("true", "false", "1", "0"):
                raise InvalidReference(f"invalid filter 'dangling={value}': expected true or false")

    def match_record(self, rec: ImageRecord, by_id) -> bool:
        for value in self.terms.get("dangling", []):
            want = value.lower() in ("true", "1")
            if want != (not rec.tags):
                return False
        for value in self.terms.get("before", []):
            other = by_id(self._resolve(value))
            if not created_ts(rec) < created_ts(other):
                return False
        for value in self.terms.get("since", []):
            other = by_id(self._resolve(value))
            if not created_ts(rec) > created_ts(other):
                return False
        for value in self.terms.get("until", []):
            if not created_ts(rec) < parse_until(value):
                return False
        labels = rec.labels or {}
        for value in self.terms.get("label", []):
            if not label_matches(labels, value):
                return False
        for value in self.terms.get("label!", []):
            if label_matches(labels, value):
                return False
        return True

    def match_row(self, row: ImageRow) -> bool:
        patterns = self.terms.get("reference")
        if not patterns:
            return True
        if row.repository == "<none>":
            return False
        candidates = [row.repository, f"{row.repository}:{row.tag}"]
        return any(go_path_match(p, c) for p in patterns for c in candidates)


def label_matches(labels: dict, term: str) -> bool:
    key, sep, value = term.partition("=")
    if key not in labels:
        return False
    return not sep or labels[key] == value


def go_path_match(pattern: str, name: str) -> bool:
    """Go's ``path.Match``: ``*`` and ``?`` do not cross ``/``."""
    regex = ""
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            regex += "[^/]*"
        elif c == "?":
            regex += "[^/]"
        elif c == "[":
            j = pattern.find("]", i + 1)
            if j == -1:
                return False
            cls = pattern[i + 1:j]
            if cls.startswith("^"):
                cls = "!" + cls[1:]
            regex += fnmatch.translate("[" + cls + "]")[4:-3]
            i = j
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            regex += re.escape(pattern[i])
        else:
            regex += re.escape(c)
        i += 1
    return re.fullmatch(regex, name) is not None


_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")


def parse_go_duration(text: str) -> float:
    """Parse a Go duration (``10m``, ``1h30m``, ``24h``) into seconds."""
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    pos, total = 0, 0.0
    text = text.strip()
    if not text:
        raise ValueError("empty duration")
    for m in _DURATION_RE.finditer(text):
        if m.start() != pos:
            raise ValueError(text)
        total += float(m.group(1)) * units[m.group(2)]
        pos = m.end()
    if pos != len(text):
        raise ValueError(text)
    return total


def parse_until(value: str, now: float | None = None) -> float:
    """``until=`` takes a Unix timestamp, an RFC 3339 date/time or a Go duration before now."""
    now = time.time() if now is None else now
    try:
        return now - parse_go_duration(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        pass
    for candidate in (value, value + "T00:00:00Z"):
        dt = parse_time(candidate if candidate.endswith("Z") or "+" in candidate[10:] else candidate + "Z")
        if dt:
            return dt.timestamp()
    raise InvalidReference(f"invalid filter 'until={value}': not a timestamp or duration")
