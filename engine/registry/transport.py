"""HTTP for the registry client, in one place.

:class:`HttpClient` wraps one ``requests.Session`` (pooled, thread-safe for
the parallel downloads) with per-host TLS settings, and translates
``requests``/``urllib3`` errors into :class:`RegistryUnreachable`.
:class:`RegistryTransport` is one registry: it finds the base URL (https
first; plain http only where :class:`RegistrySettings` allows it), answers
auth challenges through an :class:`Authenticator`, retries idempotent
requests with exponential backoff (honouring ``Retry-After``) and turns error
answers into one-line :class:`RegistryError` messages.
"""

from __future__ import annotations

import os
import ssl
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import certifi
import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

from ..errors import RegistryError
from .auth import Authenticator
from .challenge import parse_challenges
from .credentials import Credentials
from .errors import (
    RegistryResponseError,
    RegistryUnreachable,
    response_error,
    retry_after,
)
from .hosts import RegistrySettings, api_host

USER_AGENT = "strata/0.1 (+requests)"
RETRY_STATUSES = (429, 500, 502, 503, 504)
#: A Retry-After longer than this is not waited for: the error says how long to wait.
MAX_RETRY_AFTER = 30.0
SEND_BLOCK = 1 << 20

#: Exceptions that mean "the connection broke or timed out" while streaming a body.
STREAM_ERRORS = (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError)

# TLS is only ever unverified for a registry the user marked insecure: urllib3's
# warning about it would only repeat that choice on every request.
warnings.filterwarnings("ignore", message="Unverified HTTPS request",
                        category=urllib3.exceptions.InsecureRequestWarning)


def describe(exc: BaseException) -> str:
    """A short reason for a network exception (no URLs, no connection-pool noise)."""
    deepest_os = None
    for current in _causes(exc):
        if isinstance(current, ssl.SSLCertVerificationError):
            return f"TLS certificate verification failed ({current.verify_message})"
        if isinstance(current, OSError) and current.strerror:
            deepest_os = current
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return "TLS certificate verification failed"
    if deepest_os is not None:
        return deepest_os.strerror
    if isinstance(exc, (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError)):
        return "timed out"
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.ProtocolError)):
        return "connection broken"
    return exc.__class__.__name__


def _causes(exc: BaseException):
    """*exc* and what it wraps: ``__cause__``/``__context__``, exception args, urllib3's ``reason``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        inner = current.__cause__ or current.__context__
        if inner is None:
            inner = next((a for a in current.args if isinstance(a, BaseException)), None)
        if inner is None and isinstance(getattr(current, "reason", None), BaseException):
            inner = current.reason
        current = inner


def is_cert_error(exc: BaseException) -> bool:
    return describe(exc).startswith("TLS certificate verification failed")


def system_ca_bundle() -> str:
    """The CA file verified connections trust: ``$REQUESTS_CA_BUNDLE``/``$SSL_CERT_FILE``,
    the system's, else certifi's."""
    for candidate in (os.environ.get("REQUESTS_CA_BUNDLE"), os.environ.get("SSL_CERT_FILE"),
                      ssl.get_default_verify_paths().cafile):
        if candidate and os.path.isfile(candidate):
            return candidate
    return certifi.where()


class _Adapter(HTTPAdapter):
    """Sends request bodies in 1 MiB blocks instead of urllib3's 16 KiB."""

    def init_poolmanager(self, *args, **kwargs):
        kwargs.setdefault("blocksize", SEND_BLOCK)
        super().init_poolmanager(*args, **kwargs)


class HttpClient:
    """A pooled requests Session with docker's TLS rules per host.

    ``trust_env`` is off so that no ``~/.netrc`` password is ever added to a
    request; proxies still come from ``HTTP(S)_PROXY``/``NO_PROXY``.
    """

    def __init__(self, settings: RegistrySettings, pool_size: int = 16) -> None:
        self.settings = settings
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["User-Agent"] = USER_AGENT
        adapter = _Adapter(pool_connections=8, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._tls: dict[tuple[str, bool], dict] = {}
        self._bundle_dir: tempfile.TemporaryDirectory | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self.session.close()
        if self._bundle_dir is not None:
            self._bundle_dir.cleanup()

    def tls_options(self, netloc: str, insecure: bool) -> dict:
        """``verify`` and ``cert`` for a request to *netloc* (certs.d is read once per host)."""
        with self._lock:
            cached = self._tls.get((netloc, insecure))
            if cached is not None:
                return cached
            files = self.settings.tls_files(netloc)
            out: dict = {}
            if files.client_cert is not None:
                out["cert"] = tuple(str(p) for p in files.client_cert)
            if insecure:
                out["verify"] = False
            elif files.ca_files:
                out["verify"] = self._bundle(files.ca_files)
            else:
                out["verify"] = system_ca_bundle()
            self._tls[(netloc, insecure)] = out
            return out

    def _bundle(self, ca_files: list[Path]) -> str:
        """The system CAs plus certs.d's, in one file (docker adds them to the system pool)."""
        if self._bundle_dir is None:
            self._bundle_dir = tempfile.TemporaryDirectory(prefix="strata-ca-")
        path = os.path.join(self._bundle_dir.name, f"{len(self._tls)}.pem")
        with open(path, "wb") as out:
            for source in [Path(system_ca_bundle()), *ca_files]:
                try:
                    out.write(source.read_bytes().rstrip(b"\n") + b"\n")
                except OSError as exc:
                    raise RegistryError(f"reading CA file {source}: {exc.strerror or exc}") from exc
        return path

    def request(self, method: str, url: str, *, insecure: bool = False, what: str = "",
                timeout: tuple[float, float] | None = None, **kwargs) -> requests.Response:
        """Send one request; network failures become :class:`RegistryUnreachable`."""
        netloc = urlsplit(url).netloc
        options = self.tls_options(netloc, insecure) if url.startswith("https:") else {}
        if timeout is None:
            timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        try:
            proxies = get_environ_proxies(url)
            return self.session.request(method, url, timeout=timeout, proxies=proxies, **options, **kwargs)
        except requests.exceptions.RequestException as exc:
            raise RegistryUnreachable(f"{what or f'{method} {netloc}'}: {describe(exc)}") from exc


class RegistryTransport:
    """Requests to one registry, authenticated and retried."""

    def __init__(self, http: HttpClient, domain: str,
                 credentials: Callable[[], Credentials | None], insecure: bool = False,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.http = http
        self.domain = domain
        self.host = api_host(domain)
        self.settings = http.settings
        self.insecure = insecure or self.settings.is_insecure(domain) or self.settings.is_insecure(self.host)
        self.plain_http_ok = self.insecure or self.settings.allows_plain_http(self.host)
        self.auth = Authenticator(domain, self._fetch_token, credentials, self._realm_allowed)
        self._base: str | None = None
        self._ping_lock = threading.Lock()
        self._sleep = sleep

    # -- base URL and ping ---------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._base is None:
            self.ping()
        assert self._base is not None
        return self._base

    def ping(self) -> None:
        """``GET /v2/``: pick https or http, and learn the auth challenge."""
        with self._ping_lock:
            if self._base is not None:
                return
            schemes = ["https", "http"] if self.plain_http_ok else ["https"]
            last: RegistryError | None = None
            for scheme in schemes:
                url = f"{scheme}://{self.host}/v2/"
                try:
                    response = self.http.request("GET", url, insecure=self.insecure,
                                                 what=f"connecting to {self.domain}",
                                                 timeout=(self.settings.connect_timeout, 30.0))
                except RegistryUnreachable as exc:
                    last = exc
                    cause = exc.__cause__ or exc
                    if scheme == "https" and is_cert_error(cause):
                        raise RegistryUnreachable(
                            f"connecting to {self.domain}: {describe(cause)}: put its CA in "
                            f"certs.d/{self.host}/ca.crt, or mark it with --insecure-registry {self.domain}"
                        ) from exc
                    if scheme == "https" and not self.plain_http_ok and \
                            isinstance(cause, requests.exceptions.SSLError):
                        raise RegistryUnreachable(
                            f"{exc.message} (if {self.domain} serves plain http, "
                            f"use --insecure-registry {self.domain})") from exc
                    continue
                with response:
                    status = response.status_code
                    if status == 401:
                        self.auth.learn(response)
                    elif status in (400, 404):
                        last = RegistryError(f"connecting to {self.domain}: {url} is not a registry "
                                             f"(the v2 API answered {status})")
                        continue
                    elif status >= 500:
                        last = response_error(response, f"connecting to {self.domain}", self.domain)
                        continue
                self._base = f"{scheme}://{self.host}"
                return
            raise last or RegistryError(f"connecting to {self.domain}: no answer")

    def url(self, path: str) -> str:
        """An absolute URL for an API path or a (relative or absolute) Location."""
        return urljoin(self.base_url + "/", path)

    # -- auth helpers ----------------------------------------------------------------

    def _realm_allowed(self, netloc: str) -> bool:
        return self.settings.allows_plain_http(netloc) or self.insecure

    def _fetch_token(self, realm: str, params: list[tuple[str, str]], basic: str | None) -> requests.Response:
        headers = {"Authorization": basic} if basic else {}
        what = f"fetching a token for {self.domain}"
        for attempt in range(self.settings.retries + 1):
            try:
                response = self.http.request("GET", realm, params=params, headers=headers, what=what,
                                             insecure=self.insecure and urlsplit(realm).netloc == self.host)
            except RegistryUnreachable:
                if attempt >= self.settings.retries:
                    raise
                self._backoff(attempt)
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.settings.retries:
                response.close()
                self._backoff(attempt)
                continue
            return response
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int, hint: float | None = None) -> None:
        delay = hint if hint is not None else min(self.settings.backoff * (2 ** attempt), self.settings.max_backoff)
        self._sleep(delay)

    # -- requests ------------------------------------------------------------------

    def request(self, method: str, path: str, *, scopes: Iterable[str] = (), what: str,
                repo: str | None = None, ok: tuple[int, ...] = (200,), headers: dict | None = None,
                data=None, stream: bool = False, allow_redirects: bool = True,
                replayable: bool | None = None, params=None) -> requests.Response:
        """Send a request; answer one auth challenge, retry what is safe to retry.

        *replayable* (default: no body, or a bytes body) says whether the request
        may be sent again after a 401, a 5xx or a broken connection.  Error answers
        raise :class:`RegistryResponseError`; a response in *ok* is returned
        (streamed if *stream*; the caller closes it).
        """
        scopes = tuple(scopes)
        if replayable is None:
            replayable = data is None or isinstance(data, (bytes, str))
        url = self.url(path)
        attempt = 0
        answered_challenge = False
        while True:
            sent = dict(headers or {})
            authorization = self.auth.authorization(scopes)
            if authorization:
                sent["Authorization"] = authorization
            try:
                response = self.http.request(method, url, insecure=self.insecure, what=what, headers=sent,
                                             data=data, stream=stream, allow_redirects=allow_redirects,
                                             params=params)
            except RegistryUnreachable:
                if not replayable or attempt >= self.settings.retries:
                    raise
                self._backoff(attempt)
                attempt += 1
                continue
            status = response.status_code
            if status == 401 and replayable and not answered_challenge:
                answered_challenge = True
                had_token = authorization is not None and authorization.startswith("Bearer ")
                if self.auth.learn(response):
                    if had_token:
                        self.auth.forget(scopes)
                    scopes = self._with_challenge_scope(scopes)
                    response.close()
                    continue
            if status in RETRY_STATUSES and replayable and attempt < self.settings.retries:
                wait = retry_after(response)
                if wait is None or wait <= MAX_RETRY_AFTER:
                    response.close()
                    self._backoff(attempt, wait)
                    attempt += 1
                    continue
            if status not in ok:
                error = response_error(response, what, self.domain, repo)
                if status == 401:
                    error = self._unauthorized(response, what, repo, error)
                response.close()
                raise error
            return response

    def _with_challenge_scope(self, scopes: tuple[str, ...]) -> tuple[str, ...]:
        """Add what the registry's challenge asks for when it is not among *scopes* already."""
        challenge = self.auth.challenge
        wanted = (challenge.get("scope") or "").split() if challenge else []
        return scopes + tuple(s for s in wanted if s not in scopes and not _covered(s, scopes))

    def _unauthorized(self, response: requests.Response, what: str, repo: str | None,
                      error: RegistryResponseError) -> RegistryResponseError:
        """A 401 that survived the auth flow: missing credentials, refused ones, or no access."""
        try:
            challenges = parse_challenges(response.headers.get("WWW-Authenticate", ""))
        except ValueError:
            challenges = []
        scope_error = any(c.get("error") == "insufficient_scope" for c in challenges)
        login = f"run 'strata login {self.domain}'"
        if self.auth.credentials is None:
            detail = f"authentication required: {login}"
        elif scope_error:
            detail = (f"access denied to {repo or 'the repository'}: it does not exist or your "
                      f"account may not use it ({login} with another account?)")
            return RegistryResponseError(f"{what}: {detail}", 401, "DENIED")
        else:
            detail = f"{self.domain} refused the stored credentials: {login}"
        return RegistryResponseError(f"{what}: {detail}", 401, error.code or "UNAUTHORIZED")


def _covered(scope: str, scopes: tuple[str, ...]) -> bool:
    """``repository:x:pull`` is covered by ``repository:x:pull,push``."""
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    for other in scopes:
        o_kind, _, o_rest = other.partition(":")
        o_name, _, o_actions = o_rest.rpartition(":")
        if (o_kind, o_name) == (kind, name) and set(actions.split(",")) <= set(o_actions.split(",")):
            return True
    return False
