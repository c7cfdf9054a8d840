"""The distribution API of one repository: manifests, blobs, uploads, tags; and the catalog.

Every call goes through :class:`RegistryTransport`, which authenticates and
retries.  Bodies are streamed (blobs) or read with a size limit (manifests,
configs, lists), and every manifest or blob is checked against its digest.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urljoin

import requests

from .. import mediatypes as mt
from ..digest import sha256_digest
from ..errors import DigestMismatch, RegistryError
from ..image import manifest_media_type, parse_json
from .auth import CATALOG_SCOPE, pull_scope, push_scope
from .errors import RegistryResponseError
from .transport import RegistryTransport

#: The manifest types Strata reads, in the order it prefers them.
ACCEPT = f"{mt.OCI_INDEX}, {mt.OCI_MANIFEST}, {mt.DOCKER_MANIFEST_LIST}, {mt.DOCKER_MANIFEST}"
MAX_MANIFEST = 4 << 20
MAX_CONFIG = 16 << 20
MAX_LIST = 8 << 20
CHUNK = 1 << 20


@dataclass(frozen=True)
class Manifest:
    """A manifest or index exactly as the registry served it."""

    data: bytes
    media_type: str
    digest: str

    @property
    def size(self) -> int:
        return len(self.data)

    def json(self) -> dict:
        return parse_json(self.data, f"manifest {self.digest}")


def read_limited(response: requests.Response, limit: int, what: str) -> bytes:
    """The body of a small response, refusing more than *limit* bytes."""
    try:
        data = response.raw.read(limit + 1, decode_content=True)
    finally:
        response.close()
    if len(data) > limit:
        raise RegistryError(f"{what}: the registry sent more than {limit} bytes")
    return data


class RepositoryClient:
    """One repository (``library/busybox``) on one registry."""

    def __init__(self, transport: RegistryTransport, repository: str, push: bool = False) -> None:
        self.transport = transport
        self.repository = repository
        self.scopes: tuple[str, ...] = (push_scope(repository) if push else pull_scope(repository),)

    @property
    def domain(self) -> str:
        return self.transport.domain

    @property
    def name(self) -> str:
        return f"{self.domain}/{self.repository}"

    def _request(self, method: str, path: str, what: str, **kwargs) -> requests.Response:
        kwargs.setdefault("scopes", self.scopes)
        return self.transport.request(method, path, what=what, repo=self.repository, **kwargs)

    # -- manifests -------------------------------------------------------------------

    def get_manifest(self, reference: str) -> Manifest:
        """GET a manifest by tag or digest, asking for every manifest type Strata reads."""
        what = f"fetching manifest {self.name}:{reference}" if ":" not in reference else \
            f"fetching manifest {self.name}@{reference}"
        response = self._request("GET", f"/v2/{self.repository}/manifests/{reference}", what,
                                 headers={"Accept": ACCEPT}, stream=True)
        header_digest = response.headers.get("Docker-Content-Digest")
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        data = read_limited(response, MAX_MANIFEST, what)
        digest = sha256_digest(data)
        try:
            obj = json.loads(data)
        except ValueError as exc:
            raise RegistryError(f"{what}: the registry sent a manifest that is not JSON") from exc
        known = mt.MANIFESTS + mt.INDEXES + mt.SCHEMA1
        media_type = manifest_media_type(obj if isinstance(obj, dict) else {},
                                         content_type if content_type in known else None)
        expected = reference if reference.startswith("sha256:") else header_digest
        # A signed schema1 manifest's digest covers it without signatures; it is refused anyway.
        if media_type not in mt.SCHEMA1 and expected and expected.startswith("sha256:") and expected != digest:
            raise DigestMismatch(f"{what}: digest mismatch: the registry sent content hashing to {digest}, "
                                 f"not {expected}")
        return Manifest(data, media_type, digest)

    def head_manifest(self, reference: str) -> str | None:
        """The digest of a manifest if it exists (HEAD), else None."""
        what = f"checking manifest {self.name}:{reference}"
        try:
            response = self._request("HEAD", f"/v2/{self.repository}/manifests/{reference}", what,
                                     headers={"Accept": ACCEPT})
        except RegistryResponseError as exc:
            if exc.status == 404:
                return None
            raise
        response.close()
        return response.headers.get("Docker-Content-Digest")

    def put_manifest(self, reference: str, data: bytes, media_type: str) -> str:
        """PUT a manifest with its exact media type; returns the digest the registry names."""
        what = f"pushing manifest {self.name}:{reference}"
        response = self._request("PUT", f"/v2/{self.repository}/manifests/{reference}", what,
                                 ok=(200, 201, 202), headers={"Content-Type": media_type}, data=data)
        response.close()
        digest = sha256_digest(data)
        answered = response.headers.get("Docker-Content-Digest")
        if answered and answered != digest:
            raise DigestMismatch(f"{what}: the registry stored it as {answered}, expected {digest}")
        return digest

    # -- blobs -------------------------------------------------------------------------

    def blob_size(self, digest: str) -> int | None:
        """HEAD a blob: its size if the repository has it, else None."""
        what = f"checking blob {digest[:19]} in {self.name}"
        try:
            response = self._request("HEAD", f"/v2/{self.repository}/blobs/{digest}", what)
        except RegistryResponseError as exc:
            if exc.status == 404:
                return None
            raise
        response.close()
        try:
            return int(response.headers.get("Content-Length", "-1"))
        except ValueError:
            return -1

    def open_blob(self, digest: str, offset: int = 0) -> tuple[requests.Response, int]:
        """GET a blob, from *offset* with a Range request; returns (response, start).

        *start* is where the body begins: *offset* when the registry honoured the
        range (206), 0 when it sent the whole blob (200).
        """
        what = f"downloading blob {digest[:19]} from {self.name}"
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        response = self._request("GET", f"/v2/{self.repository}/blobs/{digest}", what,
                                 headers=headers, stream=True, ok=(200, 206))
        if response.status_code == 206:
            start = _content_range_start(response.headers.get("Content-Range", ""))
            if start != offset:
                response.close()
                raise RegistryError(f"{what}: asked for bytes from {offset}, the registry answered "
                                    f"{response.headers.get('Content-Range')!r}")
            return response, offset
        return response, 0

    def read_blob(self, digest: str, limit: int = MAX_CONFIG) -> bytes:
        """A small blob (a config) whole, verified against its digest."""
        what = f"fetching blob {digest[:19]} from {self.name}"
        response, _ = self.open_blob(digest)
        data = read_limited(response, limit, what)
        actual = sha256_digest(data)
        if actual != digest:
            raise DigestMismatch(f"{what}: digest mismatch: the registry sent content hashing to {actual}")
        return data

    # -- uploads ---------------------------------------------------------------------

    def start_upload(self, mount: str | None = None, source: str | None = None) -> str | None:
        """POST an upload; with *mount*/*source* try a cross-repository mount first.

        Returns the upload Location, or None when the blob was mounted.
        """
        params = None
        scopes = self.scopes
        if mount and source:
            params = {"mount": mount, "from": source}
            scopes = (*scopes, pull_scope(source))
        what = f"starting an upload to {self.name}"
        response = self._request("POST", f"/v2/{self.repository}/blobs/uploads/", what,
                                 ok=(201, 202), params=params, scopes=scopes)
        response.close()
        if response.status_code == 201 and mount:
            return None
        location = response.headers.get("Location")
        if not location:
            raise RegistryError(f"{what}: the registry answered without a Location")
        return self.transport.url(_absolute(response.url, location))

    def upload_whole(self, location: str, body: BinaryIO, size: int, digest: str) -> None:
        """Monolithic upload: one PUT ``?digest=`` with the whole blob."""
        what = f"uploading blob {digest[:19]} to {self.name}"
        response = self._request("PUT", _with_digest(location, digest), what, ok=(201, 204),
                                 data=body, replayable=False,
                                 headers={"Content-Type": "application/octet-stream",
                                          "Content-Length": str(size)})
        response.close()

    def upload_chunks(self, location: str, read: Callable[[int], bytes], size: int, digest: str,
                      chunk_size: int) -> None:
        """Chunked upload: PATCH each chunk with Content-Range, then PUT ``?digest=``."""
        what = f"uploading blob {digest[:19]} to {self.name}"
        offset = 0
        while offset < size:
            chunk = read(min(chunk_size, size - offset))
            if not chunk:
                raise RegistryError(f"{what}: the local blob ended early at {offset} bytes")
            response = self._request(
                "PATCH", location, what, ok=(202,), data=chunk, replayable=False,
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(chunk)),
                         "Content-Range": f"{offset}-{offset + len(chunk) - 1}"})
            response.close()
            offset += len(chunk)
            location = self._next_location(response, location, what)
        self.finish_upload(location, digest)

    def upload_stream(self, location: str, chunks: Iterator[bytes], what: str) -> str:
        """PATCH a stream of unknown length (chunked encoding); returns the next Location."""
        response = self._request("PATCH", location, what, ok=(202,), data=chunks, replayable=False,
                                 headers={"Content-Type": "application/octet-stream"})
        response.close()
        return self._next_location(response, location, what)

    def finish_upload(self, location: str, digest: str) -> None:
        """Close an upload with ``PUT ?digest=`` and no body."""
        what = f"finishing the upload of blob {digest[:19]} to {self.name}"
        response = self._request("PUT", _with_digest(location, digest), what, ok=(201, 204),
                                 headers={"Content-Length": "0"}, data=b"")
        response.close()

    def _next_location(self, response: requests.Response, current: str, what: str) -> str:
        location = response.headers.get("Location")
        if not location:
            raise RegistryError(f"{what}: the registry answered without a Location")
        return self.transport.url(_absolute(current, location))

    # -- listing --------------------------------------------------------------------

    def tags(self, n: int | None = None) -> list[str]:
        """Every tag, following ``Link`` pagination (*n*: page size)."""
        out: list[str] = []
        for page in paginate(self.transport, f"/v2/{self.repository}/tags/list", n, self.scopes,
                             f"listing tags of {self.name}", self.repository):
            out += [t for t in page.get("tags") or [] if isinstance(t, str)]
        return out


def catalog(transport: RegistryTransport, n: int | None = None) -> list[str]:
    """Every repository of a registry, following ``Link`` pagination (*n*: page size)."""
    out: list[str] = []
    for page in paginate(transport, "/v2/_catalog", n, (CATALOG_SCOPE,),
                         f"listing the catalog of {transport.domain}", None):
        out += [r for r in page.get("repositories") or [] if isinstance(r, str)]
    return out


def paginate(transport: RegistryTransport, path: str, n: int | None, scopes: tuple[str, ...],
             what: str, repo: str | None) -> Iterator[dict]:
    """Yield each JSON page of a list endpoint, following ``Link: <…>; rel="next"``."""
    params = {"n": str(n)} if n else None
    url: str | None = path
    seen = set()
    while url is not None and url not in seen:
        seen.add(url)
        response = transport.request("GET", url, scopes=scopes, what=what, repo=repo, params=params,
                                      stream=True)
        next_link = response.links.get("next", {}).get("url")
        page = json.loads(read_limited(response, MAX_LIST, what) or b"{}")
        if not isinstance(page, dict):
            raise RegistryError(f"{what}: the registry answered something other than a JSON object")
        yield page
        url = transport.url(_absolute(response.url, next_link)) if next_link else None
        params = None  # the next link carries its own query


def _absolute(current: str, location: str) -> str:
    """A Location (relative or absolute) resolved against the URL that returned it."""
    return urljoin(current, location)


def _with_digest(location: str, digest: str) -> str:
    return location + ("&" if "?" in location else "?") + "digest=" + digest


def _content_range_start(value: str) -> int | None:
    """The first byte of ``Content-Range: bytes START-END/TOTAL``."""
    unit, _, rest = value.strip().partition(" ")
    if unit != "bytes":
        return None
    start = rest.partition("-")[0]
    return int(start) if start.isdigit() else None
