"""Registry operations of the Engine facade (pull, push, login, browsing).

Every method takes an optional ``progress`` callback (engine events, called
from worker threads too) and, for the long ones, a ``cancel``
:class:`threading.Event` checked on every chunk (:class:`Cancelled` is raised).
``insecure`` is True, or a list of hosts, to allow plain http and unverified
TLS for those registries (``--insecure-registry``).  Tokens are cached per
Engine and registry, so repeated calls reuse them until they expire.

The HTTP side (``transport``, ``client``, ``pull``, ``push``, ``explore``: requests,
urllib3) is imported on first use, inside the methods: ``import engine`` and the
commands that never talk to a registry don't pay for it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..errors import InvalidReference, NotFound, RegistryError
from ..events import ProgressCallback, Status, emit
from ..platforms import Platform, parse_platform
from ..reference import Reference, parse_reference
from .credentials import Credentials, DockerConfig
from .errors import RegistryResponseError
from .hosts import DOCKER_HUB, RegistrySettings, normalize_registry

if TYPE_CHECKING:
    from ..tarindex import LayerIndex
    from .client import RepositoryClient
    from .pull import PullResult
    from .push import PushResult
    from .transport import HttpClient, RegistryTransport

Insecure = bool | Iterable[str]


class RegistryOps:
    """Mixed into :class:`engine.api.Engine`; ``self.store`` is the Store."""

    # -- plumbing ------------------------------------------------------------------

    @property
    def registry_settings(self) -> RegistrySettings:
        """Trust and retry settings (``registries.json`` beside the store); tests may change them."""
        settings = self.__dict__.get("_registry_settings")
        if settings is None:
            settings = self.__dict__["_registry_settings"] = RegistrySettings.load(self.store.root)
        return settings

    def _registry_state(self) -> tuple[threading.Lock, dict]:
        state = self.__dict__.get("_registry_cache")
        if state is None:
            state = self.__dict__.setdefault("_registry_cache", (threading.Lock(), {}))
        return state

    def _http(self) -> HttpClient:
        from .transport import HttpClient

        lock, cache = self._registry_state()
        with lock:
            http = cache.get("http")
            if http is None:
                http = cache["http"] = HttpClient(self.registry_settings)
            return http

    def _docker_config(self) -> DockerConfig:
        return DockerConfig(self.registry_settings.config_dir())

    def _transport(self, domain: str, insecure: Insecure = False) -> RegistryTransport:
        """The cached transport (session, auth, tokens) for a registry."""
        from .transport import RegistryTransport

        flag = _is_insecure(domain, insecure)
        http = self._http()
        lock, cache = self._registry_state()
        with lock:
            key = (domain, flag)
            transport = cache.get(key)
            if transport is None:
                config = self._docker_config()
                transport = cache[key] = RegistryTransport(http, domain, lambda: config.get(domain), flag)
            return transport

    def _repository(self, ref: Reference, insecure: Insecure, push: bool = False) -> RepositoryClient:
        from .client import RepositoryClient

        return RepositoryClient(self._transport(ref.domain, insecure), ref.path, push=push)

    # -- pull / push ----------------------------------------------------------------

    def pull(self, ref: str, platform: str | Platform | None = None, all_tags: bool = False,
             progress: ProgressCallback | None = None, max_concurrent: int = 3, insecure: Insecure = False,
             cancel: threading.Event | None = None) -> PullResult | list[PullResult]:
        """``docker pull``: returns the :class:`PullResult` (a list of them with *all_tags*)."""
        from .pull import Puller

        parsed = parse_reference(ref)
        plat = parse_platform(platform) if isinstance(platform, str) else platform
        client = self._repository(parsed, insecure)
        puller = Puller(self.store, client, self.registry_settings, progress, cancel, max_concurrent)
        if all_tags:
            if parsed.tag is not None or parsed.digest is not None:
                raise InvalidReference("tag can't be used with --all-tags/-a")
            tags = client.tags()
            if not tags:
                raise NotFound(f"no tags in {parsed.familiar_name}")
            return [puller.pull(parsed.with_tag(tag), plat) for tag in tags]
        if parsed.tag is None and parsed.digest is None:
            emit(progress, Status("Using default tag: latest"))
        return puller.pull(parsed.tagged_or_latest(), plat)

    def push(self, ref: str, all_tags: bool = False, compression: str = "gzip",
             progress: ProgressCallback | None = None, insecure: Insecure = False,
             cancel: threading.Event | None = None, max_concurrent: int = 3,
             chunk_size: int | None = None) -> PushResult | list[PushResult]:
        """``docker push``: returns the :class:`PushResult` (a list of them with *all_tags*).

        *chunk_size* uploads blobs in PATCH chunks of that many bytes instead of one PUT.
        """
        from .push import Pusher

        parsed = parse_reference(ref)
        if parsed.digest is not None:
            raise InvalidReference(f"cannot push a digest reference: {ref}")
        client = self._repository(parsed, insecure, push=True)
        pusher = Pusher(self.store, client, self.registry_settings, progress, cancel, max_concurrent, chunk_size)
        if all_tags:
            if parsed.tag is not None:
                raise InvalidReference("tag can't be used with --all-tags/-a")
            targets = self._local_tags(parsed)
            if not targets:
                raise NotFound(f"An image does not exist locally with the repository name: {parsed.familiar_name}")
            return [pusher.push(image_id, tag, compression) for tag, image_id in targets]
        if parsed.tag is None:
            emit(progress, Status("Using default tag: latest"))
        tagged = parsed.tagged_or_latest()
        image_id = self.store.resolve_reference(tagged)
        if image_id is None:
            raise NotFound(f"An image does not exist locally with the tag: {tagged.familiar()}")
        return pusher.push(image_id, tagged, compression)

    def _local_tags(self, repo: Reference) -> list[tuple[Reference, str]]:
        out = []
        for rec in self.store.meta.images():
            for name in rec.tags:
                tag = parse_reference(name)
                if tag.name == repo.name:
                    out.append((tag, rec.id))
        return sorted(out, key=lambda pair: pair[0].tag or "")

    # -- login / logout ---------------------------------------------------------------

    def login(self, registry: str | None, username: str, password: str, insecure: Insecure = False) -> str:
        """Check the credentials against the registry, then store them; returns where they went."""
        from .transport import RegistryTransport

        domain = normalize_registry(registry or DOCKER_HUB)
        if not username:
            raise RegistryError("login: a username is required (-u)")
        if not password:
            raise RegistryError("login: a password is required (--password-stdin)")
        creds = Credentials(username, password)
        transport = RegistryTransport(self._http(), domain, lambda: creds, _is_insecure(domain, insecure))
        what = f"logging in to {domain}"
        try:
            transport.ping()
            if transport.auth.challenge is not None:
                transport.request("GET", "/v2/", what=what).close()
        except RegistryResponseError as exc:
            if exc.status == 401:
                raise RegistryError(f"{what}: incorrect username or password") from exc
            raise
        where = self._docker_config().store(domain, creds)
        self._update_credentials(domain, creds)
        return where

    def logout(self, registry: str | None = None) -> bool:
        """Forget the stored login; False if there was none."""
        domain = normalize_registry(registry or DOCKER_HUB)
        removed = self._docker_config().erase(domain)
        self._update_credentials(domain, None)
        return removed

    def _update_credentials(self, domain: str, creds: Credentials | None) -> None:
        lock, cache = self._registry_state()
        with lock:
            transports = [t for k, t in cache.items() if isinstance(k, tuple) and k[0] == domain]
        for transport in transports:
            transport.auth.use_credentials(creds)

    # -- browsing -----------------------------------------------------------------------

    def catalog(self, registry: str, n: int | None = None, insecure: Insecure = False) -> list[str]:
        """Every repository of *registry* (``/v2/_catalog``, fetched in pages of *n*)."""
        from .client import catalog

        return catalog(self._transport(normalize_registry(registry), insecure), n)

    def tags(self, name: str, n: int | None = None, insecure: Insecure = False) -> list[str]:
        """Every tag of repository *name* (fetched in pages of *n*)."""
        ref = parse_reference(name)
        return self._repository(ref, insecure).tags(n)

    def manifest_inspect(self, ref: str, raw: bool = False, insecure: Insecure = False) -> bytes | dict:
        """What *ref* names: the exact bytes with *raw*, else a summary dict."""
        from .explore import inspect_manifest
        from .resolve import reference_text

        parsed = parse_reference(ref).tagged_or_latest()
        client = self._repository(parsed, insecure)
        if raw:
            return client.get_manifest(reference_text(parsed)).data
        return inspect_manifest(client, parsed)

    def remote_layer_indexes(self, ref: str, platform: str | Platform | None = None,
                             progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
                             insecure: Insecure = False) -> list[LayerIndex]:
        """The file index of each layer of a remote image, streamed through the tar indexer."""
        from .explore import layer_indexes

        parsed = parse_reference(ref).tagged_or_latest()
        plat = parse_platform(platform) if isinstance(platform, str) else platform
        client = self._repository(parsed, insecure)
        return layer_indexes(self.store, client, self.registry_settings, parsed, plat, progress, cancel)


def _is_insecure(domain: str, insecure: Insecure) -> bool:
    if isinstance(insecure, bool):
        return insecure
    return any(normalize_registry(h) == domain for h in insecure)
