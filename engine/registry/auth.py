"""Answering a registry's challenge: Basic credentials or Bearer tokens per scope.

The token flow (distribution's token spec): a 401 carries
``WWW-Authenticate: Bearer realm=…,service=…,scope=…``; the client GETs
``realm?service=…&scope=…`` (with Basic credentials when it has some, else
anonymously) and receives ``{"token"|"access_token", "expires_in",
"issued_at"}``.  Tokens are cached per (realm, service, scopes) and fetched
again shortly before they expire.  Scopes look like
``repository:library/busybox:pull,push`` or ``registry:catalog:*``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from ..errors import RegistryError
from .challenge import Challenge, parse_challenges
from .credentials import Credentials
from .errors import RegistryResponseError

DEFAULT_EXPIRY = 60.0
#: Fetch a new token this long before the old one expires (at most a tenth of its life).
RENEW_MARGIN = 10.0

TokenFetcher = Callable[[str, list[tuple[str, str]], "str | None"], requests.Response]


def pull_scope(repository: str) -> str:
    return f"repository:{repository}:pull"


def push_scope(repository: str) -> str:
    return f"repository:{repository}:pull,push"


CATALOG_SCOPE = "registry:catalog:*"


@dataclass
class _Token:
    value: str
    expires: float  # on the monotonic clock


class Authenticator:
    """Authorization headers for one registry host.

    ``fetch`` performs the token GET (so that HTTP stays in the transport);
    ``credentials`` is called at most once, when credentials are first needed.
    """

    def __init__(self, registry: str, fetch: TokenFetcher,
                 credentials: Callable[[], Credentials | None],
                 realm_allowed: Callable[[str], bool],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.registry = registry
        self._fetch = fetch
        self._credentials_source = credentials
        self._credentials: Credentials | None = None
        self._credentials_loaded = False
        self._realm_allowed = realm_allowed
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[tuple, _Token] = {}
        self.challenge: Challenge | None = None

    # -- credentials -------------------------------------------------------------

    @property
    def credentials(self) -> Credentials | None:
        """The stored credentials, read when first needed and again after each 401."""
        if not self._credentials_loaded:
            found = self._credentials_source()
            if found != self._credentials:
                self._tokens.clear()
            self._credentials, self._credentials_loaded = found, True
        return self._credentials

    def use_credentials(self, creds: Credentials | None) -> None:
        """Replace the credentials (login) and forget tokens fetched with the old ones."""
        with self._lock:
            self._credentials, self._credentials_loaded = creds, True
            self._tokens.clear()

    # -- challenges ----------------------------------------------------------------

    def learn(self, response: requests.Response) -> bool:
        """Take the challenge of a 401; True if it is one we can answer (Basic or Bearer)."""
        self._credentials_loaded = False  # a login may have happened since: read them again
        header = response.headers.get("WWW-Authenticate", "")
        try:
            challenges = parse_challenges(header)
        except ValueError as exc:
            raise RegistryError(f"{self.registry} sent a malformed WWW-Authenticate header: {exc}") from exc
        for scheme in ("bearer", "basic"):
            for challenge in challenges:
                if challenge.scheme == scheme:
                    self.challenge = challenge
                    return True
        return False

    def forget(self, scopes: tuple[str, ...]) -> None:
        """Drop the cached token for *scopes* (the registry refused it)."""
        with self._lock:
            self._tokens.pop(self._key(scopes), None)

    def _key(self, scopes: tuple[str, ...]) -> tuple:
        ch = self.challenge
        return (ch.get("realm"), ch.get("service"), tuple(sorted(set(scopes)))) if ch else ()

    # -- answers ------------------------------------------------------------------

    def authorization(self, scopes: tuple[str, ...]) -> str | None:
        """The ``Authorization`` value for a request needing *scopes*, or None."""
        ch = self.challenge
        if ch is None:
            return None
        if ch.scheme == "basic":
            creds = self.credentials
            return creds.basic() if creds is not None and creds.password else None
        return "Bearer " + self._token(scopes)

    def _token(self, scopes: tuple[str, ...]) -> str:
        with self._lock:
            self.credentials  # noqa: B018 - reads them again after a 401 without any
            key = self._key(scopes)
            now = self._clock()
            cached = self._tokens.get(key)
            if cached is not None and now < cached.expires:
                return cached.value
            token = self._request_token(key[2])
            self._tokens[key] = token
            return token.value

    def _request_token(self, scopes: tuple[str, ...]) -> _Token:
        ch = self.challenge
        assert ch is not None
        realm = ch.get("realm")
        if not realm:
            raise RegistryError(f"{self.registry} asked for a bearer token but named no realm")
        parts = urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RegistryError(f"{self.registry} named an invalid token realm {realm!r}")
        creds = self.credentials
        params: list[tuple[str, str]] = []
        if ch.get("service"):
            params.append(("service", ch.get("service") or ""))
        params += [("scope", s) for s in scopes]
        basic = None
        if creds is not None and creds.password:
            if parts.scheme == "http" and not self._realm_allowed(parts.netloc):
                raise RegistryError(
                    f"{self.registry} asks for credentials over plain http ({parts.netloc}); "
                    "refusing to send them: mark it with --insecure-registry if you trust it")
            params.append(("account", creds.username))
            basic = creds.basic()
        started = self._clock()
        response = self._fetch(realm, params, basic)
        try:
            if response.status_code in (401, 403):
                if basic is not None:
                    raise RegistryResponseError(
                        f"authenticating to {self.registry}: incorrect username or password "
                        f"(run 'strata login {self.registry}')", response.status_code, "UNAUTHORIZED")
                raise RegistryResponseError(
                    f"authenticating to {self.registry}: authentication required "
                    f"(run 'strata login {self.registry}')", response.status_code, "UNAUTHORIZED")
            if response.status_code != 200:
                raise RegistryResponseError(
                    f"fetching a token from {parts.netloc}: it answered {response.status_code}",
                    response.status_code)
            try:
                body = response.json()
                value = body.get("token") or body.get("access_token")
                lifetime = float(body.get("expires_in") or DEFAULT_EXPIRY)
            except (ValueError, AttributeError, TypeError):
                value, lifetime = None, 0.0
            if not value or not isinstance(value, str):
                raise RegistryError(f"fetching a token from {parts.netloc}: the answer holds no token")
        finally:
            response.close()
        margin = min(RENEW_MARGIN, lifetime / 10)
        return _Token(value, started + lifetime - margin)
