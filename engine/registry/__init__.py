"""The registry client: OCI distribution spec / Docker Registry HTTP API v2.

Modules, one job each: ``hosts`` (where a registry lives, how far to trust
it), ``transport`` (all HTTP: session, TLS, retries, auth round trips),
``challenge`` and ``auth`` (WWW-Authenticate, Basic and Bearer tokens),
``credentials`` (config.json and credential helpers), ``errors`` (registry
answers as one-line messages), ``client`` (the API of one repository),
``resolve`` (reference -> platform manifest), ``download`` and ``partial``
(resumable blob streaming), ``pull``, ``push``, ``explore`` (remote browsing)
and ``ops`` (the Engine methods).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .credentials import Credentials, DockerConfig
from .errors import RegistryResponseError, RegistryUnreachable
from .hosts import RegistrySettings

if TYPE_CHECKING:
    from .pull import PullResult
    from .push import PushResult

__all__ = [
    "Credentials", "DockerConfig", "PullResult", "PushResult", "RegistryResponseError",
    "RegistrySettings", "RegistryUnreachable",
]

#: Names imported on first use: ``pull``/``push`` pull in the HTTP client (requests,
#: urllib3), which every CLI command and the TUI would otherwise pay for at start-up.
_LAZY = {"PullResult": ".pull", "PushResult": ".push"}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
