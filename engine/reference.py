"""Image references, parsed and normalised like distribution/reference.

Grammar (distribution/reference, regexp.go)::

    reference   := name [ ":" tag ] [ "@" digest ]
    name        := [domain '/'] remote-name
    domain      := host [':' port-number]
    host        := domain-name | IPv4address | '[' IPv6address ']'
    remote-name := path-component ['/' path-component]*
    path-component := [a-z0-9]+ ( ([_.]|__|[-]+) [a-z0-9]+ )*
    tag         := [\\w][\\w.-]{0,127}          (\\w is ASCII: [A-Za-z0-9_])
    digest      := algorithm ':' encoded

``parse_reference`` follows ``ParseNormalizedNamed``: a name without a
registry belongs to ``docker.io``, and a single-component name there gets the
``library/`` prefix.  ``parse_canonical`` follows ``ParseNamed`` (the text must
already be in that normalised form) and ``parse_unnormalized`` follows
``Parse`` (no normalisation; the domain may be empty).

Digests inside references are checked like go-digest's ``Digest.Validate``
with the sha256, sha384 and sha512 algorithms available.

Deliberate differences from distribution/reference (see tests/test_reference.py):

* ``Reference.with_digest`` validates the digest like go-digest (``WithDigest``
  only checks the grammar), so every ``Reference`` renders to a string that
  parses back.
* ``Reference.familiar_name`` keeps ``docker.io/`` when dropping it would make
  the first path component read as a registry (``docker.io/foo.bar/app`` stays
  as is; distribution prints ``foo.bar/app``, which parses as registry
  ``foo.bar``), and keeps ``library/`` before a 64-hex name (which alone
  would be refused as an image ID).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidReference

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
LOCALHOST = "localhost"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
#: Longest allowed repository *path* (the name without its domain), as in
#: distribution/reference's ``RepositoryNameTotalLengthMax``.
NAME_TOTAL_LENGTH_MAX = 255

# Every pattern is ASCII-only on purpose (Go's \w and [[:xdigit:]] are ASCII)
# and anchored with \A...\Z ('$' would also match before a trailing newline).
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[_.]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_HOST = rf"(?:{_DOMAIN_NAME}|{_IPV6})"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_WORD = r"[A-Za-z0-9_]"
_TAG = rf"{_WORD}[A-Za-z0-9_.-]{{0,127}}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"
_REMOTE_NAME = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_NAME = rf"(?:{_DOMAIN}/)?{_REMOTE_NAME}"

REFERENCE_RE = re.compile(rf"\A({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?\Z")
ANCHORED_NAME_RE = re.compile(rf"\A(?:({_DOMAIN})/)?({_REMOTE_NAME})\Z")
TAG_RE = re.compile(rf"\A{_TAG}\Z")
DIGEST_RE = re.compile(rf"\A{_DIGEST}\Z")
IDENTIFIER_RE = re.compile(r"\A[a-f0-9]{64}\Z")
SHORT_IDENTIFIER_RE = re.compile(r"\A[a-f0-9]{6,64}\Z")

#: go-digest's syntax for a digest of any algorithm (``DigestRegexpAnchored``).
_GO_DIGEST_RE = re.compile(r"\A[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+\Z")

#: Lengths of the encoded part for the digest algorithms we know.
DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


def _show(text: object, limit: int = 200) -> str:
    """*text* for a one-line message: quoted, escaped, shortened."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 4] + "...'"


def validate_digest(digest: str) -> str:
    """Return *digest* if go-digest's ``Parse`` accepts it (sha256/sha384/sha512).

    Messages: "invalid checksum digest format", "unsupported digest algorithm"
    (well-formed, unknown algorithm) or "invalid checksum digest length".
    """
    if not isinstance(digest, str):
        raise InvalidReference(f"invalid checksum digest format: {_show(digest)}")
    algorithm, sep, encoded = digest.partition(":")
    if not sep or not algorithm or not encoded:
        raise InvalidReference(f"invalid checksum digest format: {_show(digest)}")
    expected = DIGEST_HEX_LENGTHS.get(algorithm)
    if expected is None:
        if not _GO_DIGEST_RE.match(digest):
            raise InvalidReference(f"invalid checksum digest format: {_show(digest)}")
        raise InvalidReference(f"unsupported digest algorithm: {_show(algorithm)}")
    if len(encoded) != expected:
        raise InvalidReference(
            f"invalid checksum digest length: {algorithm} needs {expected} hex digits, got {len(encoded)}"
        )
    if not re.fullmatch(r"[a-f0-9]+", encoded):
        raise InvalidReference(
            f"invalid checksum digest format: {_show(digest)} (lower-case hex expected)"
        )
    return digest


@dataclass(frozen=True, order=True)
class Reference:
    """An image reference (``domain/path[:tag][@digest]``).

    References from :func:`parse_reference` are normalised and always have a
    domain; :func:`parse_unnormalized` may leave ``domain`` empty.
    """

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """The repository name, e.g. ``docker.io/library/busybox``."""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    @property
    def familiar_name(self) -> str:
        """The repository as docker prints it, e.g. ``busybox`` or ``user/app``."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        path = self.path
        short = path[len(OFFICIAL_REPO_PREFIX):]
        if path.startswith(OFFICIAL_REPO_PREFIX) and "/" not in short:
            # A bare 64-hex name would be read back as an image ID: keep library/.
            return path if IDENTIFIER_RE.match(short) else short
        first, slash, _ = path.partition("/")
        if slash and _looks_like_domain(first):
            # "foo.bar/app" would be read back as registry foo.bar: keep docker.io.
            return self.name
        return path

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
        """``WithTag``: the same reference with *tag* (any digest is kept)."""
        if not isinstance(tag, str) or not TAG_RE.match(tag):
            raise InvalidReference(f"invalid tag format: {_show(tag)}")
        return Reference(self.domain, self.path, tag, self.digest)

    def with_digest(self, digest: str) -> "Reference":
        """``WithDigest``: the same reference pinned to *digest* (any tag is kept)."""
        if not isinstance(digest, str) or not DIGEST_RE.match(digest):
            raise InvalidReference(f"invalid digest format: {_show(digest)}")
        return Reference(self.domain, self.path, self.tag, validate_digest(digest))

    def tagged_or_latest(self) -> "Reference":
        """``TagNameOnly``: add the ``latest`` tag when there is neither a tag nor a digest."""
        if self.tag is None and self.digest is None:
            return Reference(self.domain, self.path, DEFAULT_TAG, None)
        return self

    @property
    def repository(self) -> "Reference":
        """The bare repository, without tag or digest."""
        return Reference(self.domain, self.path)


def _looks_like_domain(component: str) -> bool:
    """Whether ``splitDockerDomain`` takes *component* (before the first '/') as a registry."""
    return (
        component == LOCALHOST
        or component == LEGACY_DEFAULT_DOMAIN
        or any(c in component for c in ".:")
        or component.lower() != component
    )


def split_docker_domain(name: str) -> tuple[str, str]:
    """Split a name into (domain, remainder) as ``splitDockerDomain`` does."""
    first, slash, rest = name.partition("/")
    if not slash:
        # A single component ("ubuntu", "ubuntu:latest") is always a Hub name.
        return DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name
    if _looks_like_domain(first):
        domain, remainder = first, rest
    else:
        domain, remainder = DEFAULT_DOMAIN, name
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
        raise InvalidReference(f"invalid reference format: {_show(text)}")
    if IDENTIFIER_RE.match(text):
        raise InvalidReference(
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings"
        )
    domain, remainder = split_docker_domain(text)
    # Like distribution, everything before the first ':' is the repository.
    remote = remainder.partition(":")[0]
    if remote.lower() != remote:
        raise InvalidReference(
            f"invalid reference format: repository name ({_show(remote)[1:-1]}) must be lowercase"
        )
    return _parse(f"{domain}/{remainder}", original=text)


def parse_canonical(text: str) -> Reference:
    """Parse a reference already in normalised form (``reference.ParseNamed``).

    ``docker.io/library/foo`` is accepted; ``foo``, ``library/foo`` and
    ``docker.io/foo`` are valid but not canonical and raise ``InvalidReference``.
    """
    ref = parse_reference(text)
    if str(ref) != text:
        raise InvalidReference(f"repository name must be canonical: {_show(text)} (did you mean {_show(str(ref))}?)")
    return ref


def parse_unnormalized(text: str) -> Reference:
    """Parse *text* exactly as written (``reference.Parse``): no default domain.

    The domain is whatever ``ANCHORED_NAME_RE`` takes as one (``"foo/bar"`` has
    domain ``foo``; ``"busybox"`` has domain ``""``).
    """
    if not isinstance(text, str):
        raise InvalidReference(f"invalid reference format: {_show(text)}")
    return _parse(text, original=text)


def _parse(text: str, original: str) -> Reference:
    if not text:
        raise InvalidReference("invalid reference format: repository name must have at least one component")
    match = REFERENCE_RE.match(text)
    if match is None:
        lowered = text.lower()
        if lowered != text and REFERENCE_RE.match(lowered):
            raise InvalidReference(f"invalid reference format: repository name must be lowercase: {_show(original)}")
        raise InvalidReference(f"invalid reference format: {_show(original)}")
    name, tag, digest = match.groups()
    name_match = ANCHORED_NAME_RE.match(name)
    assert name_match is not None  # the full regexp matched
    domain, path = name_match.groups()
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidReference(
            f"invalid reference format: repository name must not be more than "
            f"{NAME_TOTAL_LENGTH_MAX} characters (got {len(path)})"
        )
    if digest is not None:
        validate_digest(digest)
    return Reference(domain or "", path, tag, digest)


def is_image_id_prefix(text: str) -> bool:
    """True if *text* could be an image ID or its short form (``sha256:`` optional)."""
    if text.startswith("sha256:"):
        text = text[7:]
        return bool(re.fullmatch(r"[a-f0-9]{1,64}", text))
    return bool(SHORT_IDENTIFIER_RE.match(text))
