"""Registry credentials in docker's ``config.json`` and ``docker-credential-*`` helpers.

``config.json`` (``$DOCKER_CONFIG`` or ``~/.docker``) holds:

* ``auths``: registry -> ``{"auth": base64("user:password")}`` (or
  ``{"identitytoken": …}``); an empty entry marks a login kept by a helper;
* ``credHelpers``: registry -> helper suffix, ``credsStore``: the default helper.

A helper ``docker-credential-NAME`` speaks JSON on stdin/stdout: ``get`` reads
the server URL and prints ``{"ServerURL", "Username", "Secret"}``, ``store``
reads that object, ``erase`` reads the server URL.  Secrets only ever travel
through stdin and stdout, never in arguments, logs or error messages.  The file
is rewritten atomically with mode 0600, keeping every key Strata does not know.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import RegistryError
from .hosts import (
    DOCKER_HUB,
    DOCKER_HUB_AUTH_KEY,
    docker_config_dir,
    normalize_registry,
)

if TYPE_CHECKING:
    import subprocess

HELPER_TIMEOUT = 60.0
TOKEN_USERNAME = "<token>"


@dataclass(frozen=True)
class Credentials:
    """A username and secret for one registry (the secret never shows in repr)."""

    username: str
    password: str = field(repr=False)
    identity_token: str | None = field(default=None, repr=False)

    def basic(self) -> str:
        """The value of an ``Authorization: Basic`` header."""
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()


def auth_key(registry: str) -> str:
    """The key config.json uses for a registry (docker.io has its legacy URL)."""
    host = normalize_registry(registry)
    return DOCKER_HUB_AUTH_KEY if host == DOCKER_HUB else host


class DockerConfig:
    """Read and write one ``config.json``."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else docker_config_dir()
        self.path = self.directory / "config.json"

    # -- reading -----------------------------------------------------------------

    def load(self) -> dict:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise RegistryError(f"reading {self.path}: {exc.strerror or exc}") from exc
        try:
            data = json.loads(text or "{}")
        except ValueError as exc:
            raise RegistryError(f"reading {self.path}: invalid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise RegistryError(f"reading {self.path}: expected a JSON object")
        return data

    def helper_for(self, registry: str, data: dict | None = None) -> str | None:
        """The credential helper suffix that handles *registry*, if any."""
        data = self.load() if data is None else data
        host = normalize_registry(registry)
        for key, helper in (data.get("credHelpers") or {}).items():
            if normalize_registry(key) == host and helper:
                return helper
        return data.get("credsStore") or None

    def get(self, registry: str) -> Credentials | None:
        """The credentials stored for *registry*, or None."""
        data = self.load()
        helper = self.helper_for(registry, data)
        if helper:
            found = helper_get(helper, auth_key(registry))
            if found is not None:
                return found
        entry = _find_entry(data.get("auths") or {}, registry)
        return _decode_entry(entry, self.path) if entry else None

    # -- writing -----------------------------------------------------------------

    def store(self, registry: str, creds: Credentials) -> str:
        """Save *creds* (in the helper if one is set); returns where they went."""
        data = self.load()
        key = auth_key(registry)
        auths = data.setdefault("auths", {})
        for other in [k for k in auths if normalize_registry(k) == normalize_registry(registry)]:
            del auths[other]
        helper = self.helper_for(registry, data)
        if helper:
            helper_store(helper, key, creds)
            auths[key] = {}
            where = f"docker-credential-{helper}"
        else:
            raw = f"{creds.username}:{creds.password}".encode()
            auths[key] = {"auth": base64.b64encode(raw).decode()}
            where = str(self.path)
        self._write(data)
        return where

    def erase(self, registry: str) -> bool:
        """Forget the login for *registry*; False if there was none."""
        data = self.load()
        host = normalize_registry(registry)
        auths = data.get("auths") or {}
        keys = [k for k in auths if normalize_registry(k) == host]
        helper = self.helper_for(registry, data)
        erased = False
        if helper:
            erased = helper_erase(helper, auth_key(registry))
        for key in keys:
            del auths[key]
        if keys:
            self._write(data)
        return erased or bool(keys)

    def _write(self, data: dict) -> None:
        """Write atomically (temp file, fsync, rename) with mode 0600."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=".config.json.", dir=self.directory)
            try:
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "w") as f:
                    json.dump(data, f, indent="\t")
                    f.write("\n")
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise RegistryError(f"writing {self.path}: {exc.strerror or exc}") from exc


def _find_entry(auths: dict, registry: str) -> dict | None:
    host = normalize_registry(registry)
    for key, entry in auths.items():
        if normalize_registry(key) == host and isinstance(entry, dict):
            return entry
    return None


def _decode_entry(entry: dict, path: Path) -> Credentials | None:
    token = entry.get("identitytoken")
    auth = entry.get("auth")
    if auth:
        try:
            user, sep, password = base64.b64decode(auth, validate=False).decode().partition(":")
        except (ValueError, UnicodeDecodeError) as exc:
            raise RegistryError(f"reading {path}: an 'auth' entry is not base64 of user:password") from exc
        if not sep:
            raise RegistryError(f"reading {path}: an 'auth' entry is not base64 of user:password")
        return Credentials(user, password, token or None)
    if entry.get("username") and entry.get("password"):
        return Credentials(entry["username"], entry["password"], token or None)
    if token:
        return Credentials(TOKEN_USERNAME, "", token)
    return None


# -- the helper protocol -------------------------------------------------------------


def _run_helper(helper: str, action: str, stdin: str) -> subprocess.CompletedProcess:
    import subprocess  # here, not at the top: only credential helpers need it (start-up time)

    program = f"docker-credential-{helper}"
    try:
        return subprocess.run([program, action], input=stdin.encode(), capture_output=True,
                              timeout=HELPER_TIMEOUT, check=False)
    except FileNotFoundError:
        raise RegistryError(
            f"credential helper {program} is not installed: install it or remove it from "
            "config.json (credsStore/credHelpers)") from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RegistryError(f"running credential helper {program} {action}: {exc.__class__.__name__}") from exc


def _helper_message(result: subprocess.CompletedProcess) -> str:
    # Helpers print their error on stdout; only the first line, which never holds a secret.
    text = (result.stdout or result.stderr or b"").decode(errors="replace").strip()
    return text.splitlines()[0][:200] if text else f"exit status {result.returncode}"


def helper_get(helper: str, server: str) -> Credentials | None:
    result = _run_helper(helper, "get", server)
    if result.returncode != 0:
        message = _helper_message(result)
        if "credentials not found" in message.lower():
            return None
        raise RegistryError(f"docker-credential-{helper} get: {message}")
    try:
        obj = json.loads(result.stdout)
        username, secret = obj["Username"], obj["Secret"]
    except (ValueError, KeyError, TypeError):
        raise RegistryError(f"docker-credential-{helper} get: answered something other than credentials JSON") from None
    if not secret:
        return None
    if username == TOKEN_USERNAME:
        return Credentials(username, "", secret)
    return Credentials(username, secret)


def helper_store(helper: str, server: str, creds: Credentials) -> None:
    payload = json.dumps({"ServerURL": server, "Username": creds.username, "Secret": creds.password})
    result = _run_helper(helper, "store", payload)
    if result.returncode != 0:
        raise RegistryError(f"docker-credential-{helper} store: {_helper_message(result)}")


def helper_erase(helper: str, server: str) -> bool:
    result = _run_helper(helper, "erase", server)
    if result.returncode != 0:
        message = _helper_message(result)
        if "credentials not found" in message.lower():
            return False
        raise RegistryError(f"docker-credential-{helper} erase: {message}")
    return True
