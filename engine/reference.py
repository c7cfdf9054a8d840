"""Image references, parsed and normalised like distribution/reference.

Grammar (distribution/reference, regexp.go)::

    reference   := name [ ":" tag ] [ "@" digest ]
    name        := [domain '/'] remote-name
    domain      := host [':' port-number]
    host        := domain-name | IPv4address | '[' IPv6address ']'
    remote-name := path-component ['/' path-component]*
    path-component := [a-z0-9]+ ( ([_.]|__|[-]+) [a-z0-9]+ )*
    tag         := [\\w][\\w.-]{0,127}
    digest      := algorithm ':' encoded

``parse_reference`` follows ``ParseNormalizedNamed``: a name without a
registry belongs to ``docker.io``, and a single-component name there gets the
``library/`` prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidReference

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[_.]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_HOST = rf"(?:{_DOMAIN_NAME}|{_IPV6})"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"
_REMOTE_NAME = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_NAME = rf"(?:{_DOMAIN}/)?{_REMOTE_NAME}"

REFERENCE_RE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?$")
ANCHORED_NAME_RE = re.compile(rf"^(?:({_DOMAIN})/)?({_REMOTE_NAME})$")
TAG_RE = re.compile(rf"^{_TAG}$")
DIGEST_RE = re.compile(rf"^{_DIGEST}$")
IDENTIFIER_RE = re.compile(r"^[a-f0-9]{64}$")
SHORT_IDENTIFIER_RE = re.compile(r"^[a-f0-9]{6,64}$")

#: Lengths of the encoded part for the digest algorithms we know.
DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


def validate_digest(digest: str) -> str:
    """Return *digest* if it is a well-formed digest of a known algorithm."""
    if not DIGEST_RE.match(digest):
        raise InvalidReference(f"invalid digest format: {digest!r}")
    algorithm, _, encoded = digest.partition(":")
    expected = DIGEST_HEX_LENGTHS.get(algorithm)
    if expected is None:
        raise InvalidReference(f"unsupported digest algorithm: {algorithm!r}")
    if len(encoded) != expected or encoded.lower() != encoded:
        raise InvalidReference(f"invalid checksum digest length or case: {digest!r}")
    return digest


@dataclass(frozen=True, order=True)
class Reference:
    """A fully normalised image reference (``domain/path[:tag][@digest]``)."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """The canonical repository name, e.g. ``docker.io/library/busybox``."""
        return f"{self.domain}/{self.path}"

    @property
    def familiar_name(self) -> str:
        """The repository as docker prints it, e.g. ``busybox`` or ``user/app``."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        if self.path.startswith(OFFICIAL_REPO_PREFIX) and "/" not in self.path[len(OFFICIAL_REPO_PREFIX):]:
            return self.path[len(OFFICIAL_REPO_PREFIX):]
        return self.path

    def __str__(self) -> str:
        return self._render(self.name)

    def familiar(self) -> str:
        """The reference as docker prints it (``busybox:latest``)."""
        return self._render(self.familiar_name)

    def _render(self, name: str) -> str:
        out = name
        if self.tag is not None:
            out += ":" + self.tag
        if self.digest is not None:
            out += "@" + self.digest
        return out

    def with_tag(self, tag: str) -> "Reference":
        """The same repository with *tag* (and no digest)."""
        if not TAG_RE.match(tag):
            raise InvalidReference(f"invalid tag format: {tag!r}")
        return Reference(self.domain, self.path, tag, None)

    def with_digest(self, digest: str) -> "Reference":
        """The same repository pinned to *digest* (and no tag)."""
        return Reference(self.domain, self.path, None, validate_digest(digest))

    def tagged_or_latest(self) -> "Reference":
        """``TagNameOnly``: add the ``latest`` tag when there is neither a tag nor a digest."""
        if self.tag is None and self.digest is None:
            return Reference(self.domain, self.path, DEFAULT_TAG, None)
        return self

    @property
    def repository(self) -> "Reference":
        """The bare repository, without tag or digest."""
        return Reference(self.domain, self.path)


def split_docker_domain(name: str) -> tuple[str, str]:
    """Split a name into (domain, remainder) as ``splitDockerDomain`` does."""
    i = name.find("/")
    first = name[:i]
    if i == -1 or (not any(c in first for c in ".:") and first != "localhost" and first.lower() == first):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain, remainder = first, name[i + 1:]
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder


def parse_reference(text: str) -> Reference:
    """Parse and normalise *text* like ``reference.ParseNormalizedNamed``.

    Raises :class:`InvalidReference` with a one-line message.
    """
    if not isinstance(text, str):
        raise InvalidReference(f"invalid reference format: {text!r}")
    if IDENTIFIER_RE.match(text):
        raise InvalidReference(
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings"
        )
    domain, remainder = split_docker_domain(text)
    remote = remainder.split(":", 1)[0].split("@", 1)[0]
    if remote.lower() != remote:
        raise InvalidReference(
            f"invalid reference format: repository name ({remote}) must be lowercase"
        )
    return _parse(f"{domain}/{remainder}", original=text)


def parse_canonical(text: str) -> Reference:
    """Parse a reference that must already be fully qualified (``reference.Parse``)."""
    ref = _parse(text, original=text)
    if str(ref) != text:
        raise InvalidReference(f"repository name must be canonical: {text!r}")
    return ref


def _parse(text: str, original: str) -> Reference:
    match = REFERENCE_RE.match(text)
    if match is None:
        if not original:
            raise InvalidReference("invalid reference format: repository name must have at least one component")
        if REFERENCE_RE.match(text.lower()):
            raise InvalidReference(f"invalid reference format: repository name must be lowercase: {original!r}")
        raise InvalidReference(f"invalid reference format: {original!r}")
    name, tag, digest = match.groups()
    if len(name) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidReference(
            f"invalid reference format: repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
        )
    if digest is not None:
        validate_digest(digest)
    domain_match = ANCHORED_NAME_RE.match(name)
    assert domain_match is not None  # the full regexp matched
    domain, path = domain_match.groups()
    if domain is None:
        domain, path = "", name
    return Reference(domain, path, tag, digest)


def is_image_id_prefix(text: str) -> bool:
    """True if *text* could be an image ID or its short form (``sha256:`` optional)."""
    if text.startswith("sha256:"):
        text = text[7:]
        return bool(re.fullmatch(r"[a-f0-9]{1,64}", text))
    return bool(SHORT_IDENTIFIER_RE.match(text))
