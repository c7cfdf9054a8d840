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

from .credentials import Credentials, DockerConfig
from .errors import RegistryResponseError, RegistryUnreachable
from .hosts import RegistrySettings
from .pull import PullResult
from .push import PushResult

__all__ = [
    "Credentials", "DockerConfig", "PullResult", "PushResult", "RegistryResponseError",
    "RegistrySettings", "RegistryUnreachable",
]
