"""ADD's extra sources: remote URLs (with ``--checksum``) and local archives."""

from __future__ import annotations

import bz2
import email.utils
import gzip
import hashlib
import lzma
import os
import posixpath
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from engine.errors import DigestMismatch, NotFound, StrataError

CHUNK = 1 << 20
USER_AGENT = "strata-build"


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def is_git(source: str) -> bool:
    return source.startswith("git@") or source.endswith(".git") or "://" in source and ".git#" in source


@dataclass
class Download:
    path: Path
    filename: str
    digest: str
    mtime: int | None


def url_filename(url: str) -> str:
    base = posixpath.basename(urllib.parse.urlparse(url).path)
    return base if base not in ("", ".", "/") else "__unnamed__"


def fetch(url: str, tmp_dir: Path, checksum: str = "", timeout: float = 60.0) -> Download:
    """Download *url* into *tmp_dir*, verifying ``--checksum`` (``sha256:<hex>``)."""
    if checksum:
        algo, _, expected = checksum.partition(":")
        if algo not in ("sha256", "sha384", "sha512") or not expected:
            raise StrataError(f"invalid checksum digest format {checksum!r}")
    else:
        algo, expected = "sha256", ""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    fd, name = tempfile.mkstemp(prefix="add-", dir=tmp_dir)
    h = hashlib.new(algo)
    sha = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as resp:
            modified = resp.headers.get("Last-Modified")
            while chunk := resp.read(CHUNK):
                out.write(chunk)
                h.update(chunk)
                sha.update(chunk)
    except urllib.error.HTTPError as exc:
        os.unlink(name)
        raise NotFound(f"invalid response status {exc.code} fetching {url}") from exc
    except (urllib.error.URLError, OSError) as exc:
        os.unlink(name)
        reason = getattr(exc, "reason", None) or exc
        raise StrataError(f"fetching {url}: {reason}") from exc
    if expected and h.hexdigest() != expected:
        os.unlink(name)
        raise DigestMismatch(
            f"digest mismatch for {url}: expected {checksum}, got {algo}:{h.hexdigest()}")
    mtime = None
    if modified:
        try:
            mtime = int(email.utils.parsedate_to_datetime(modified).timestamp())
        except (TypeError, ValueError):
            mtime = None
    return Download(Path(name), url_filename(url), "sha256:" + sha.hexdigest(), mtime)


def is_archive(path: str) -> bool:
    """True when *path* is a tar archive, plain or gzip/bzip2/xz compressed."""
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except OSError:
        return False
    opener = open
    if head.startswith(b"\x1f\x8b"):
        opener = gzip.open
    elif head.startswith(b"BZh"):
        opener = bz2.open
    elif head.startswith(b"\xfd7zXZ\x00"):
        opener = lzma.open
    try:
        with opener(path, "rb") as f:
            block = f.read(512)
    except (OSError, EOFError, lzma.LZMAError):
        return False
    if len(block) < 512:
        return False
    try:
        tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        return False
    return True


__all__ = ["Download", "fetch", "is_archive", "is_git", "is_url", "url_filename"]
