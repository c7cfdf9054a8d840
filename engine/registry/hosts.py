"""Where a registry lives and how far to trust it: API host, insecure list, certs.d.

Docker's rules, kept here in one place:

* ``docker.io`` is served by ``registry-1.docker.io`` and its credentials are
  stored under ``https://index.docker.io/v1/`` in ``config.json``.
* TLS is verified.  Plain http, or an unknown CA, is allowed only for a
  registry marked insecure (``--insecure-registry HOST``, or the
  ``insecure-registries`` list of ``registries.json`` beside the store, which
  may hold ``host[:port]`` entries and CIDR ranges) and for loopback
  addresses (``localhost``, ``127.0.0.0/8``, ``::1``).
* ``certs.d/HOST[:PORT]/`` holds extra CAs (``*.crt``) and a client
  certificate (``*.cert`` + ``*.key``), looked up in ``/etc/docker/certs.d``
  and ``$DOCKER_CONFIG/certs.d`` (``$STRATA_CERTS_DIRS`` replaces the list,
  ``os.pathsep``-separated).
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RegistryError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"
SETTINGS_FILE = "registries.json"


def docker_config_dir() -> Path:
    """``$DOCKER_CONFIG``, else ``~/.docker``."""
    env = os.environ.get("DOCKER_CONFIG")
    return Path(env).expanduser() if env else Path.home() / ".docker"


def api_host(domain: str) -> str:
    """The host that serves the registry API for a reference's domain."""
    return DOCKER_HUB_API if domain in (DOCKER_HUB, "index.docker.io") else domain


def split_host_port(host: str) -> tuple[str, str | None]:
    """``("127.0.0.1", "5000")`` from ``127.0.0.1:5000``; IPv6 in brackets is kept whole."""
    if host.startswith("["):
        end = host.find("]")
        rest = host[end + 1:]
        return host[1:end], rest[1:] if rest.startswith(":") else None
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        return name, port
    return host, None


def is_loopback(host: str) -> bool:
    """True for ``localhost``, ``127.0.0.0/8`` and ``::1`` (with or without a port)."""
    name, _ = split_host_port(host)
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def normalize_registry(text: str) -> str:
    """A registry as config.json and the insecure list name it: no scheme, no path.

    ``https://index.docker.io/v1/`` and ``docker.io`` both become ``docker.io``.
    """
    text = text.strip()
    for scheme in ("https://", "http://"):
        if text.lower().startswith(scheme):
            text = text[len(scheme):]
    text = text.split("/", 1)[0].lower()
    if text in ("index.docker.io", DOCKER_HUB_API, "registry.hub.docker.com"):
        return DOCKER_HUB
    return text


def _is_cidr(entry: str) -> bool:
    """``10.0.0.0/8`` or ``fd00::/8``, as opposed to a host (with a scheme or path)."""
    address, slash, bits = entry.strip().partition("/")
    if not slash or not bits.isdigit():
        return False
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


@dataclass
class TLSFiles:
    """What certs.d holds for one host."""

    ca_files: list[Path] = field(default_factory=list)
    client_cert: tuple[Path, Path] | None = None


@dataclass
class RegistrySettings:
    """Registry trust and tuning for one Engine; tests change the fields directly."""

    insecure: list[str] = field(default_factory=list)
    certs_dirs: list[Path] = field(default_factory=list)
    docker_config: Path | None = None  # None: $DOCKER_CONFIG or ~/.docker, read when needed
    retries: int = 5
    backoff: float = 0.25  # first retry delay in seconds; doubles each time
    max_backoff: float = 8.0
    connect_timeout: float = 15.0
    read_timeout: float = 60.0

    @classmethod
    def load(cls, store_root: Path | None) -> RegistrySettings:
        """Defaults plus ``registries.json`` in the store directory, if it exists."""
        settings = cls()
        env = os.environ.get("STRATA_CERTS_DIRS")
        if env is not None:
            settings.certs_dirs = [Path(p) for p in env.split(os.pathsep) if p]
        else:
            settings.certs_dirs = [Path("/etc/docker/certs.d")]
        if store_root is not None:
            path = Path(store_root) / SETTINGS_FILE
            if path.is_file():
                settings._read(path)
        return settings

    def _read(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise RegistryError(f"reading {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise RegistryError(f"reading {path}: expected a JSON object")
        insecure = data.get("insecure-registries") or []
        if not isinstance(insecure, list) or not all(isinstance(h, str) for h in insecure):
            raise RegistryError(f"reading {path}: 'insecure-registries' must be a list of hosts")
        self.insecure.extend(insecure)
        for extra in data.get("certs-dirs") or []:
            self.certs_dirs.append(Path(extra).expanduser())

    def config_dir(self) -> Path:
        return self.docker_config or docker_config_dir()

    def is_insecure(self, host: str) -> bool:
        """Whether *host* (``name[:port]``) was marked insecure by name or CIDR range."""
        host = normalize_registry(host)
        name, _ = split_host_port(host)
        for entry in self.insecure:
            if _is_cidr(entry):
                try:
                    if ipaddress.ip_address(name) in ipaddress.ip_network(entry.strip(), strict=False):
                        return True
                except ValueError:
                    pass
                continue
            if normalize_registry(entry) in (host, name):
                return True
        return False

    def allows_plain_http(self, host: str) -> bool:
        """Plain http (and unverified TLS) is allowed for insecure and loopback registries."""
        return self.is_insecure(host) or is_loopback(host)

    def tls_files(self, host: str) -> TLSFiles:
        """CA files and client certificate from every certs.d directory for *host*."""
        out = TLSFiles()
        dirs = [*self.certs_dirs, self.config_dir() / "certs.d"]
        for base in dirs:
            folder = base / host
            if not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                if path.suffix == ".crt":
                    out.ca_files.append(path)
                elif path.suffix == ".cert" and out.client_cert is None:
                    key = path.with_suffix(".key")
                    if not key.is_file():
                        raise RegistryError(f"client certificate {path} has no matching key {key.name}")
                    out.client_cert = (path, key)
        return out
