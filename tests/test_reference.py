"""engine.reference against distribution/reference's published test vectors.

The tables below are transcribed (as data, not code) from
github.com/distribution/reference:

* normalize_test.go  (commit 4894124079e525c3c3c5c8aacaa653b5499004e9)
* reference_test.go  (commit ff14fafe2236e51c2894ac07d4bdfc778e96d682; this
  version limits the *path* to 255 characters: the older table's
  ``"a/"*128 + "a:tag"`` -> ErrNameTooLong vector was replaced upstream by
  ``"domain/" + "a"*256 + ":tag"``)
* regexp_test.go     (commit 00a09fa3799203fc887e667b0d82142ee831939a)

Go function -> engine.reference:

* ``ParseNormalizedNamed`` -> ``parse_reference``
* ``ParseNamed``           -> ``parse_canonical``
* ``Parse``                -> ``parse_unnormalized``
* ``FamiliarName`` / ``FamiliarString`` -> ``Reference.familiar_name`` / ``.familiar()``
* ``TagNameOnly``          -> ``Reference.tagged_or_latest``
* ``WithTag`` / ``WithDigest`` -> ``Reference.with_tag`` / ``.with_digest``
* ``Domain`` / ``Path`` / ``Name()`` / ``String()`` -> ``.domain`` / ``.path`` / ``.name`` / ``str()``

Go error values are all ``InvalidReference`` here; the kind is told apart by a
phrase in the one-line message (``ERROR_PHRASES``).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import InvalidReference
from engine.reference import (
    ANCHORED_NAME_RE,
    IDENTIFIER_RE,
    REFERENCE_RE,
    Reference,
    is_image_id_prefix,
    parse_canonical,
    parse_reference,
    parse_unnormalized,
    split_docker_domain,
    validate_digest,
)

# -- error kinds ---------------------------------------------------------------

#: Go error -> phrase our message must contain.
ERROR_PHRASES = {
    "ErrReferenceInvalidFormat": "invalid reference format",
    "ErrNameEmpty": "must have at least one component",
    "ErrNameContainsUppercase": "must be lowercase",
    "ErrNameTooLong": "must not be more than 255 characters",
    "ErrNameNotCanonical": "must be canonical",
    "ErrTagInvalidFormat": "invalid tag format",
    "ErrDigestInvalidFormat": "invalid digest format",  # reference.ErrDigestInvalidFormat (WithDigest)
    "digest.ErrDigestInvalidFormat": "invalid checksum digest format",
    "digest.ErrDigestInvalidLength": "invalid checksum digest length",
    "digest.ErrDigestUnsupported": "unsupported digest algorithm",
    "hex-identifier": "cannot specify 64-byte hexadecimal strings",
}
#: Phrases that other kinds may carry as a prefix (Go's ParseNormalizedNamed
#: says "invalid reference format: repository name (...) must be lowercase").
_GENERIC = {"invalid reference format"}


def assert_error_kind(exc: InvalidReference, kind: str) -> None:
    message = str(exc)
    assert "\n" not in message, f"message is not one line: {message!r}"
    assert ERROR_PHRASES[kind] in message, f"{kind}: {message!r}"
    for other, phrase in ERROR_PHRASES.items():
        if other != kind and phrase not in _GENERIC and phrase not in ERROR_PHRASES[kind]:
            assert phrase not in message, f"{kind} reported as {other}: {message!r}"


def raises_kind(kind: str, fn, *args):
    with pytest.raises(InvalidReference) as info:
        fn(*args)
    assert_error_kind(info.value, kind)
    return info.value


SHA256_F = "sha256:" + "f" * 64
SHA512_F = "sha512:" + "f" * 128
HEX64 = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"

# -- normalize_test.go: TestValidateReferenceName ------------------------------

VALID_REPO_NAMES = [
    "docker/docker",
    "library/debian",
    "debian",
    "docker.io/docker/docker",
    "docker.io/library/debian",
    "docker.io/debian",
    "index.docker.io/docker/docker",
    "index.docker.io/library/debian",
    "index.docker.io/debian",
    "127.0.0.1:5000/docker/docker",
    "127.0.0.1:5000/library/debian",
    "127.0.0.1:5000/debian",
    "192.168.0.1",
    "192.168.0.1:80",
    "192.168.0.1:8/debian",
    "192.168.0.2:25000/debian",
    "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
    "[fc00::1]:5000/docker",
    "[fc00::1]:5000/docker/docker",
    "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
    # valid when a hostname removes the ambiguity with an image ID
    "docker.io/" + HEX64,
    "Docker/docker",
    "DOCKER/docker",
]

INVALID_REPO_NAMES = [
    "https://github.com/docker/docker",
    "docker/Docker",
    "-docker",
    "-docker/docker",
    "-docker.io/docker/docker",
    "docker///docker",
    "docker.io/docker/Docker",
    "docker.io/docker///docker",
    "[fc00::1]",
    "[fc00::1]:5000",
    "fc00::1:5000/debian",
    "[fe80::1%eth0]:5000/debian",
    "[2001:db8:3:4::192.0.2.33]:5000/debian",
    HEX64,
]


@pytest.mark.parametrize("name", VALID_REPO_NAMES)
def test_validate_reference_name_valid(name):
    ref = parse_reference(name)
    assert ref.domain and ref.path


@pytest.mark.parametrize("name", INVALID_REPO_NAMES)
def test_validate_reference_name_invalid(name):
    with pytest.raises(InvalidReference) as info:
        parse_reference(name)
    assert "\n" not in str(info.value)


def test_hex_identifier_is_not_a_repository_name():
    raises_kind("hex-identifier", parse_reference, HEX64)


# -- normalize_test.go: TestValidateRemoteName ---------------------------------

VALID_REMOTE_NAMES = [
    "docker/docker",
    "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
    "docker-rules/docker",
    "docker---rules/docker",
    "doc/docker",
    "d/docker",
    "jess/t",
    "dock__er/docker",
]

INVALID_REMOTE_NAMES = [
    "docker/Docker",
    "docker///docker",
    HEX64,
    "-docker/docker",
    "docker-/docker",
    "-docker-/docker",
    "____/____",
    "_docker/_docker",
    "dock..er/docker",
    "dock_.er/docker",
    "dock-.er/docker",
    "docker/",
    (
        "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_"
        "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_"
        "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_"
        "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker"
    ),
]


@pytest.mark.parametrize("name", VALID_REMOTE_NAMES)
def test_validate_remote_name_valid(name):
    assert parse_reference(name).path == (name if "/" in name else "library/" + name)


@pytest.mark.parametrize("name", INVALID_REMOTE_NAMES)
def test_validate_remote_name_invalid(name):
    with pytest.raises(InvalidReference):
        parse_reference(name)


def test_remote_name_too_long_says_so():
    raises_kind("ErrNameTooLong", parse_reference, INVALID_REMOTE_NAMES[-1])


# -- normalize_test.go: TestParseRepositoryInfo --------------------------------

# (RemoteName, FamiliarName, FullName, AmbiguousName, Domain)
REPOSITORY_INFO = [
    ("fooo/bar", "fooo/bar", "docker.io/fooo/bar", "index.docker.io/fooo/bar", "docker.io"),
    ("library/ubuntu", "ubuntu", "docker.io/library/ubuntu", "library/ubuntu", "docker.io"),
    ("nonlibrary/ubuntu", "nonlibrary/ubuntu", "docker.io/nonlibrary/ubuntu", "", "docker.io"),
    ("other/library", "other/library", "docker.io/other/library", "", "docker.io"),
    ("private/moonbase", "127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase", "", "127.0.0.1:8000"),
    ("privatebase", "127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase", "", "127.0.0.1:8000"),
    ("private/moonbase", "example.com/private/moonbase", "example.com/private/moonbase", "", "example.com"),
    ("privatebase", "example.com/privatebase", "example.com/privatebase", "", "example.com"),
    ("private/moonbase", "example.com:8000/private/moonbase", "example.com:8000/private/moonbase", "", "example.com:8000"),
    ("privatebasee", "example.com:8000/privatebasee", "example.com:8000/privatebasee", "", "example.com:8000"),
    ("library/ubuntu-12.04-base", "ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base",
     "index.docker.io/library/ubuntu-12.04-base", "docker.io"),
    ("library/foo", "foo", "docker.io/library/foo", "docker.io/foo", "docker.io"),
    ("library/foo/bar", "library/foo/bar", "docker.io/library/foo/bar", "", "docker.io"),
    ("store/foo/bar", "store/foo/bar", "docker.io/store/foo/bar", "", "docker.io"),
    ("bar", "Foo/bar", "Foo/bar", "", "Foo"),
    ("bar", "FOO/bar", "FOO/bar", "", "FOO"),
]

REPOSITORY_INFO_CASES = [
    pytest.param(text, remote, familiar, full, domain, id=f"{i}/{text}")
    for i, (remote, familiar, full, ambiguous, domain) in enumerate(REPOSITORY_INFO)
    for text in [familiar, full] + ([ambiguous] if ambiguous else [])
]


@pytest.mark.parametrize("text,remote,familiar,full,domain", REPOSITORY_INFO_CASES)
def test_parse_repository_info(text, remote, familiar, full, domain):
    ref = parse_reference(text)
    assert ref.familiar_name == familiar
    assert str(ref) == full
    assert ref.domain == domain
    assert ref.path == remote


# -- normalize_test.go: TestParseReferenceWithTagAndDigest ---------------------

def test_parse_reference_with_tag_and_digest():
    short = "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"
    ref = parse_reference(short)
    assert str(ref) == "docker.io/library/" + short
    assert ref.tag == "latest"
    assert ref.digest == "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"
    assert ref.familiar() == short


# -- normalize_test.go: TestInvalidReferenceComponents -------------------------

def test_invalid_reference_components():
    with pytest.raises(InvalidReference):
        parse_reference("-foo")
    ref = parse_reference("busybox")
    raises_kind("ErrTagInvalidFormat", ref.with_tag, "-foo")
    raises_kind("ErrDigestInvalidFormat", ref.with_digest, "foo")


# -- normalize_test.go: TestParseAnyReference ----------------------------------

DBCC = "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"

# (Reference, Equivalent) for the cases ParseAnyReference hands to ParseNormalizedNamed
PARSE_ANY_NAMED = [
    ("redis", "docker.io/library/redis"),
    ("redis:latest", "docker.io/library/redis:latest"),
    ("docker.io/library/redis:latest", "docker.io/library/redis:latest"),
    (f"redis@sha256:{DBCC}", f"docker.io/library/redis@sha256:{DBCC}"),
    (f"docker.io/library/redis@sha256:{DBCC}", f"docker.io/library/redis@sha256:{DBCC}"),
    ("dmcgowan/myapp", "docker.io/dmcgowan/myapp"),
    ("dmcgowan/myapp:latest", "docker.io/dmcgowan/myapp:latest"),
    ("docker.io/mcgowan/myapp:latest", "docker.io/mcgowan/myapp:latest"),
    (f"dmcgowan/myapp@sha256:{DBCC}", f"docker.io/dmcgowan/myapp@sha256:{DBCC}"),
    (f"docker.io/dmcgowan/myapp@sha256:{DBCC}", f"docker.io/dmcgowan/myapp@sha256:{DBCC}"),
    (DBCC[:-1], "docker.io/library/" + DBCC[:-1]),
    ("dbcc1", "docker.io/library/dbcc1"),
]

# (Reference, Equivalent) for the cases ParseAnyReference turns into a digest reference
PARSE_ANY_DIGEST = [
    (DBCC, f"sha256:{DBCC}"),
    (f"sha256:{DBCC}", f"sha256:{DBCC}"),
]


@pytest.mark.parametrize("text,equivalent", PARSE_ANY_NAMED)
def test_parse_any_reference_named(text, equivalent):
    ref = parse_reference(text)
    assert str(ref) == equivalent
    assert ref == parse_canonical(equivalent) == parse_unnormalized(equivalent)


@pytest.mark.parametrize("text,equivalent", PARSE_ANY_DIGEST)
def test_parse_any_reference_digest_is_an_image_id(text, equivalent):
    # Strata resolves these as image IDs (store.resolve) before parse_reference.
    assert is_image_id_prefix(text)
    assert validate_digest(equivalent) == equivalent
    if IDENTIFIER_RE.match(text):
        raises_kind("hex-identifier", parse_reference, text)


# -- normalize_test.go: TestNormalizedSplitHostname ----------------------------

NORMALIZED_SPLIT = [
    ("test.com/foo", "test.com", "foo"),
    ("test_com/foo", "docker.io", "test_com/foo"),
    ("docker/migrator", "docker.io", "docker/migrator"),
    ("test.com:8080/foo", "test.com:8080", "foo"),
    ("test-com:8080/foo", "test-com:8080", "foo"),
    ("foo", "docker.io", "library/foo"),
    ("xn--n3h.com/foo", "xn--n3h.com", "foo"),
    ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
    ("docker.io/foo", "docker.io", "library/foo"),
    ("docker.io/library/foo", "docker.io", "library/foo"),
    ("docker.io/library/foo/bar", "docker.io", "library/foo/bar"),
]


@pytest.mark.parametrize("text,domain,path", NORMALIZED_SPLIT)
def test_normalized_split_hostname(text, domain, path):
    ref = parse_reference(text)
    assert (ref.domain, ref.path) == (domain, path)
    assert split_docker_domain(text) == (domain, path)


# -- normalize_test.go: TestParseDockerRef (TagNameOnly part) ------------------

E669 = "sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582"

PARSE_DOCKER_REF = [
    ("nothing", "busybox", "docker.io/library/busybox:latest"),
    ("tag only", "busybox:latest", "docker.io/library/busybox:latest"),
    ("digest only", f"busybox@{E669}", f"docker.io/library/busybox@{E669}"),
    ("path only", "library/busybox", "docker.io/library/busybox:latest"),
    ("hostname only", "docker.io/busybox", "docker.io/library/busybox:latest"),
    ("no tag", "docker.io/library/busybox", "docker.io/library/busybox:latest"),
    ("no path", "docker.io/busybox:latest", "docker.io/library/busybox:latest"),
    ("no hostname", "library/busybox:latest", "docker.io/library/busybox:latest"),
    ("full reference with tag", "docker.io/library/busybox:latest", "docker.io/library/busybox:latest"),
    ("gcr reference without tag", "gcr.io/library/busybox", "gcr.io/library/busybox:latest"),
]


@pytest.mark.parametrize("text,expected", [pytest.param(t, e, id=n) for n, t, e in PARSE_DOCKER_REF])
def test_tag_name_only(text, expected):
    ref = parse_reference(text).tagged_or_latest()
    assert str(ref) == expected
    assert parse_canonical(expected) == ref


def test_parse_docker_ref_tag_and_digest():
    # TagNameOnly leaves a tagged+digested reference alone; ParseDockerRef
    # then keeps only the digest, which is repository.with_digest here.
    ref = parse_reference(f"gcr.io/library/busybox:latest@{E669}")
    assert ref.tagged_or_latest() is ref
    assert str(ref.repository.with_digest(ref.digest)) == f"gcr.io/library/busybox@{E669}"


# -- normalize_test.go: FamiliarString round trips -----------------------------

@pytest.mark.parametrize("text", [f for _, f, *_ in REPOSITORY_INFO] + [t for t, _ in PARSE_ANY_NAMED])
def test_familiar_string_round_trip(text):
    ref = parse_reference(text)
    assert parse_reference(ref.familiar()) == ref
    assert parse_reference(str(ref)) == ref


# -- reference_test.go: TestReferenceParse -------------------------------------

# (input, error kind or None, repository (Name), domain, tag, digest)
REFERENCE_PARSE = [
    ("test_com", None, "test_com", "", None, None),
    ("test.com:tag", None, "test.com", "", "tag", None),
    ("test.com:5000", None, "test.com", "", "5000", None),
    ("test.com/repo:tag", None, "test.com/repo", "test.com", "tag", None),
    ("test:5000/repo", None, "test:5000/repo", "test:5000", None, None),
    ("test:5000/repo:tag", None, "test:5000/repo", "test:5000", "tag", None),
    (f"test:5000/repo@{SHA256_F}", None, "test:5000/repo", "test:5000", None, SHA256_F),
    (f"test:5000/repo:tag@{SHA256_F}", None, "test:5000/repo", "test:5000", "tag", SHA256_F),
    ("test:5000/repo", None, "test:5000/repo", "test:5000", None, None),
    ("", "ErrNameEmpty", None, None, None, None),
    (":justtag", "ErrReferenceInvalidFormat", None, None, None, None),
    (f"@{SHA256_F}", "ErrReferenceInvalidFormat", None, None, None, None),
    ("repo@sha256:" + "f" * 34, "digest.ErrDigestInvalidLength", None, None, None, None),
    ("validname@invaliddigest:" + "f" * 64, "digest.ErrDigestUnsupported", None, None, None, None),
    ("Uppercase:tag", "ErrNameContainsUppercase", None, None, None, None),
    ("test:5000/Uppercase/lowercase:tag", "ErrNameContainsUppercase", None, None, None, None),
    ("lowercase:Uppercase", None, "lowercase", "", "Uppercase", None),
    ("domain/" + "a" * 256 + ":tag", "ErrNameTooLong", None, None, None, None),
    ("a/" * 127 + "a:tag-puts-this-over-max", None, "a/" * 127 + "a", "a", "tag-puts-this-over-max", None),
    ("aa/asdf$$^/aa", "ErrReferenceInvalidFormat", None, None, None, None),
    ("sub-dom1.foo.com/bar/baz/quux", None, "sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", None, None),
    ("sub-dom1.foo.com/bar/baz/quux:some-long-tag", None, "sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com",
     "some-long-tag", None),
    ("b.gcr.io/test.example.com/my-app:test.example.com", None, "b.gcr.io/test.example.com/my-app", "b.gcr.io",
     "test.example.com", None),
    ("xn--n3h.com/myimage:xn--n3h.com", None, "xn--n3h.com/myimage", "xn--n3h.com", "xn--n3h.com", None),
    (f"xn--7o8h.com/myimage:xn--7o8h.com@{SHA512_F}", None, "xn--7o8h.com/myimage", "xn--7o8h.com", "xn--7o8h.com",
     SHA512_F),
    ("foo_bar.com:8080", None, "foo_bar.com", "", "8080", None),
    ("foo/foo_bar.com:8080", None, "foo/foo_bar.com", "foo", "8080", None),
    ("192.168.1.1", None, "192.168.1.1", "", None, None),
    ("192.168.1.1:tag", None, "192.168.1.1", "", "tag", None),
    ("192.168.1.1:5000", None, "192.168.1.1", "", "5000", None),
    ("192.168.1.1/repo", None, "192.168.1.1/repo", "192.168.1.1", None, None),
    ("192.168.1.1:5000/repo", None, "192.168.1.1:5000/repo", "192.168.1.1:5000", None, None),
    ("192.168.1.1:5000/repo:5050", None, "192.168.1.1:5000/repo", "192.168.1.1:5000", "5050", None),
    ("[2001:db8::1]", "ErrReferenceInvalidFormat", None, None, None, None),
    ("[2001:db8::1]:5000", "ErrReferenceInvalidFormat", None, None, None, None),
    ("[2001:db8::1]:tag", "ErrReferenceInvalidFormat", None, None, None, None),
    ("[2001:db8::1]/repo", None, "[2001:db8::1]/repo", "[2001:db8::1]", None, None),
    ("[2001:db8:1:2:3:4:5:6]/repo:tag", None, "[2001:db8:1:2:3:4:5:6]/repo", "[2001:db8:1:2:3:4:5:6]", "tag", None),
    ("[2001:db8::1]:5000/repo", None, "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", None, None),
    ("[2001:db8::1]:5000/repo:tag", None, "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "tag", None),
    (f"[2001:db8::1]:5000/repo@{SHA256_F}", None, "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", None, SHA256_F),
    (f"[2001:db8::1]:5000/repo:tag@{SHA256_F}", None, "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "tag",
     SHA256_F),
    ("[2001:db8::]:5000/repo", None, "[2001:db8::]:5000/repo", "[2001:db8::]:5000", None, None),
    ("[::1]:5000/repo", None, "[::1]:5000/repo", "[::1]:5000", None, None),
    ("[fe80::1%eth0]:5000/repo", "ErrReferenceInvalidFormat", None, None, None, None),
    ("[fe80::1%@invalidzone]:5000/repo", "ErrReferenceInvalidFormat", None, None, None, None),
    ("example.com/" + "a" * 255 + ":tag", None, "example.com/" + "a" * 255, "example.com", "tag", None),
]


def _short_id(text: str) -> str:
    return text if len(text) <= 60 else f"{text[:30]}...{text[-20:]}({len(text)})"


REFERENCE_PARSE_PARAMS = [pytest.param(*row, id=_short_id(row[0]) or "<empty>") for row in REFERENCE_PARSE]


@pytest.mark.parametrize("text,error,repository,domain,tag,digest", REFERENCE_PARSE_PARAMS)
def test_reference_parse(text, error, repository, domain, tag, digest):
    if error is not None:
        raises_kind(error, parse_unnormalized, text)
        return
    ref = parse_unnormalized(text)
    assert str(ref) == text
    assert ref.name == repository
    assert ref.domain == domain
    assert ref.tag == tag
    assert ref.digest == digest


# Not a separate upstream table: the same inputs through ParseNormalizedNamed
# (which calls Parse on "domain/remainder") keep their verdict, error kind, tag
# and digest; only the name gains docker.io[/library].
NORMALIZED_ERROR_KIND = {"ErrNameEmpty": "ErrReferenceInvalidFormat"}  # "" becomes "docker.io/library/"


@pytest.mark.parametrize("text,error,repository,domain,tag,digest", REFERENCE_PARSE_PARAMS)
def test_reference_parse_normalized(text, error, repository, domain, tag, digest):
    if error is not None:
        raises_kind(NORMALIZED_ERROR_KIND.get(error, error), parse_reference, text)
        return
    ref = parse_reference(text)
    assert (ref.tag, ref.digest) == (tag, digest)
    # Parse's domain ("a", "foo") is not a registry for the normaliser.
    assert ref.name == parse_reference(repository).name


# -- reference_test.go: TestDomainAndPath (WithName) ---------------------------

DOMAIN_AND_PATH = [
    ("test.com/foo", "test.com", "foo"),
    ("test_com/foo", "", "test_com/foo"),
    ("test:8080/foo", "test:8080", "foo"),
    ("test.com:8080/foo", "test.com:8080", "foo"),
    ("test-com:8080/foo", "test-com:8080", "foo"),
    ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
]


@pytest.mark.parametrize("text,domain,path", DOMAIN_AND_PATH)
def test_domain_and_path(text, domain, path):
    ref = parse_unnormalized(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (domain, path, None, None)


# -- reference_test.go: TestWithNameFailure (as Parse verdicts) ----------------

# WithName takes a bare name; Parse also takes a tag, so "example.com/repo:tag"
# (WithName: invalid) is left out.  Error kinds are Parse's.
WITH_NAME_FAILURE = [
    ("", "ErrNameEmpty"),
    (":justtag", "ErrReferenceInvalidFormat"),
    (f"@{SHA256_F}", "ErrReferenceInvalidFormat"),
    ("validname@invaliddigest:" + "f" * 64, "digest.ErrDigestUnsupported"),
    ("example.com/" + "a" * 256, "ErrNameTooLong"),
    ("aa/asdf$$^/aa", "ErrReferenceInvalidFormat"),
]


@pytest.mark.parametrize("text,error", [pytest.param(t, e, id=_short_id(t) or "<empty>") for t, e in WITH_NAME_FAILURE])
def test_with_name_failure(text, error):
    raises_kind(error, parse_unnormalized, text)


# -- reference_test.go: TestSerialization (Field.UnmarshalText = Parse) --------

SERIALIZATION = [
    ("empty value", "", "ErrNameEmpty", None, None, None),
    ("just a name", "example.com:8000/named", None, "example.com:8000/named", None, None),
    ("name with a tag", "example.com:8000/named:tagged", None, "example.com:8000/named", "tagged", None),
    ("name with digest", "other.com/named@sha256:1234567890098765432112345667890098765432112345667890098765432112",
     None, "other.com/named", None, "sha256:1234567890098765432112345667890098765432112345667890098765432112"),
]


@pytest.mark.parametrize("text,error,name,tag,digest", [pytest.param(*r[1:], id=r[0]) for r in SERIALIZATION])
def test_serialization(text, error, name, tag, digest):
    if error is not None:
        raises_kind(error, parse_unnormalized, text)
        return
    ref = parse_unnormalized(text)
    assert (ref.name, ref.tag, ref.digest) == (name, tag, digest)
    assert str(ref) == text


# -- reference_test.go: TestWithTag / TestWithDigest ---------------------------

SHORT_DIGEST = "sha256:1234567890098765432112345667890098765"  # 37 hex digits: grammar-valid, go-digest-invalid

# (name, digest, tag, combined)
WITH_TAG = [
    ("test.com/foo", None, "tag", "test.com/foo:tag"),
    ("foo", None, "tag2", "foo:tag2"),
    ("test.com:8000/foo", None, "tag4", "test.com:8000/foo:tag4"),
    ("test.com:8000/foo", None, "TAG5", "test.com:8000/foo:TAG5"),
    ("test.com:8000/foo", SHORT_DIGEST, "TAG5", f"test.com:8000/foo:TAG5@{SHORT_DIGEST}"),
]

WITH_DIGEST = [
    ("test.com/foo", SHORT_DIGEST, None, f"test.com/foo@{SHORT_DIGEST}"),
    ("foo", SHORT_DIGEST, None, f"foo@{SHORT_DIGEST}"),
    ("test.com:8000/foo", SHORT_DIGEST, None, f"test.com:8000/foo@{SHORT_DIGEST}"),
    ("test.com:8000/foo", SHORT_DIGEST, "latest", f"test.com:8000/foo:latest@{SHORT_DIGEST}"),
]

# Deliberate deviation: with_digest also runs go-digest validation (WithDigest
# only checks the grammar), so the vectors' 37-digit sha256 is refused with
# ErrDigestInvalidLength.  The combining rules are checked with a valid digest.
VALID_DIGEST = "sha256:" + "1234567890098765432112345667890098765".ljust(64, "0")


def _combine(name, digest, tag, combined, tag_first):
    ref = parse_unnormalized(name)
    if digest is not None and tag is not None:
        ref = ref.with_tag(tag).with_digest(digest) if tag_first else ref.with_digest(digest).with_tag(tag)
    elif digest is not None:
        ref = ref.with_digest(digest)
    else:
        ref = ref.with_tag(tag)
    return ref


@pytest.mark.parametrize("name,digest,tag,combined", WITH_TAG)
def test_with_tag(name, digest, tag, combined):
    if digest == SHORT_DIGEST:
        raises_kind("digest.ErrDigestInvalidLength", parse_unnormalized(name).with_digest, digest)
        digest, combined = VALID_DIGEST, combined.replace(SHORT_DIGEST, VALID_DIGEST)
    ref = _combine(name, digest, tag, combined, tag_first=False)
    assert str(ref) == combined
    assert parse_unnormalized(combined) == ref


@pytest.mark.parametrize("name,digest,tag,combined", WITH_DIGEST)
def test_with_digest(name, digest, tag, combined):
    raises_kind("digest.ErrDigestInvalidLength", parse_unnormalized(name).with_digest, digest)
    digest, combined = VALID_DIGEST, combined.replace(SHORT_DIGEST, VALID_DIGEST)
    ref = _combine(name, digest, tag, combined, tag_first=True)
    assert str(ref) == combined
    assert parse_unnormalized(combined) == ref


# -- reference_test.go: TestParseNamed -----------------------------------------

PARSE_NAMED = [
    ("test.com/foo", "test.com", "foo", None),
    ("test:8080/foo", "test:8080", "foo", None),
    ("test_com/foo", None, None, "ErrNameNotCanonical"),
    ("test.com", None, None, "ErrNameNotCanonical"),
    ("foo", None, None, "ErrNameNotCanonical"),
    ("library/foo", None, None, "ErrNameNotCanonical"),
    ("docker.io/library/foo", "docker.io", "library/foo", None),
    ("docker.io/foo", None, None, "ErrNameNotCanonical"),  # ambiguous: the parser adds library/
]


@pytest.mark.parametrize("text,domain,path,error", PARSE_NAMED)
def test_parse_named(text, domain, path, error):
    if error is not None:
        raises_kind(error, parse_canonical, text)
        return
    ref = parse_canonical(text)
    assert (ref.domain, ref.path) == (domain, path)


# -- regexp_test.go: TestDomainRegexp ------------------------------------------

DOMAIN_REGEXP = [
    ("test.com", True),
    ("test.com:10304", True),
    ("test.com:http", False),
    ("localhost", True),
    ("localhost:8080", True),
    ("a", True),
    ("a.b", True),
    ("ab.cd.com", True),
    ("a-b.com", True),
    ("-ab.com", False),
    ("ab-.com", False),
    ("ab.c-om", True),
    ("ab.-com", False),
    ("ab.com-", False),
    ("0101.com", True),
    ("001a.com", True),
    ("b.gbc.io:443", True),
    ("b.gbc.io", True),
    ("xn--n3h.com", True),
    ("Asdf.com", True),
    ("192.168.1.1:75050", True),
    ("192.168.1.1:750050", True),
    ("[fd00:1:2::3]:75050", True),
    ("[fd00:1:2::3]75050", False),
    ("[fd00:1:2::3]::75050", False),
    ("[fd00:1:2::3%eth0]:75050", False),
    ("[fd00123123123]:75050", True),
    ("[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:75050", True),
    ("[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:750505", True),
    ("fd00:1:2::3:75050", False),
]


@pytest.mark.parametrize("domain,match", DOMAIN_REGEXP)
def test_domain_regexp(domain, match):
    found = ANCHORED_NAME_RE.match(domain + "/repo")
    assert (found is not None and found.group(1) == domain) == match


# -- regexp_test.go: TestFullNameRegexp ----------------------------------------

# (input, match, [domain, remote-name]); Go's "" submatch is None here.
FULL_NAME_REGEXP = [
    ("", False, None),
    ("short", True, ["", "short"]),
    ("simple/name", True, ["simple", "name"]),
    ("library/ubuntu", True, ["library", "ubuntu"]),
    ("docker/stevvooe/app", True, ["docker", "stevvooe/app"]),
    ("aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb", True, ["aa", "aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb"]),
    ("aa/aa/bb/bb/bb", True, ["aa", "aa/bb/bb/bb"]),
    ("a/a/a/a", True, ["a", "a/a/a"]),
    ("a/a/a/a/", False, None),
    ("a//a/a", False, None),
    ("a", True, ["", "a"]),
    ("a/aa", True, ["a", "aa"]),
    ("a/aa/a", True, ["a", "aa/a"]),
    ("foo.com", True, ["", "foo.com"]),
    ("foo.com/", False, None),
    ("foo.com:8080/bar", True, ["foo.com:8080", "bar"]),
    ("foo.com:http/bar", False, None),
    ("foo.com/bar", True, ["foo.com", "bar"]),
    ("foo.com/bar/baz", True, ["foo.com", "bar/baz"]),
    ("localhost:8080/bar", True, ["localhost:8080", "bar"]),
    ("sub-dom1.foo.com/bar/baz/quux", True, ["sub-dom1.foo.com", "bar/baz/quux"]),
    ("blog.foo.com/bar/baz", True, ["blog.foo.com", "bar/baz"]),
    ("a^a", False, None),
    ("aa/asdf$$^/aa", False, None),
    ("asdf$$^/aa", False, None),
    ("aa-a/a", True, ["aa-a", "a"]),
    ("a/" * 128 + "a", True, ["a", "a/" * 127 + "a"]),
    ("a-/a/a/a", False, None),
    ("foo.com/a-/a/a", False, None),
    ("-foo/bar", False, None),
    ("foo/bar-", False, None),
    ("foo-/bar", False, None),
    ("foo/-bar", False, None),
    ("_foo/bar", False, None),
    ("foo_bar", True, ["", "foo_bar"]),
    ("foo_bar.com", True, ["", "foo_bar.com"]),
    ("foo_bar.com:8080", False, None),
    ("foo_bar.com:8080/app", False, None),
    ("foo.com/foo_bar", True, ["foo.com", "foo_bar"]),
    ("____/____", False, None),
    ("_docker/_docker", False, None),
    ("docker_/docker_", False, None),
    ("b.gcr.io/test.example.com/my-app", True, ["b.gcr.io", "test.example.com/my-app"]),
    ("xn--n3h.com/myimage", True, ["xn--n3h.com", "myimage"]),
    ("xn--7o8h.com/myimage", True, ["xn--7o8h.com", "myimage"]),
    ("example.com/xn--7o8h.com/myimage", True, ["example.com", "xn--7o8h.com/myimage"]),
    ("example.com/some_separator__underscore/myimage", True, ["example.com", "some_separator__underscore/myimage"]),
    ("example.com/__underscore/myimage", False, None),
    ("example.com/..dots/myimage", False, None),
    ("example.com/.dots/myimage", False, None),
    ("example.com/nodouble..dots/myimage", False, None),
    ("example.com/nodouble..dots/myimage", False, None),
    ("docker./docker", False, None),
    (".docker/docker", False, None),
    ("docker-/docker", False, None),
    ("-docker/docker", False, None),
    ("do..cker/docker", False, None),
    ("do__cker:8080/docker", False, None),
    ("do__cker/docker", True, ["", "do__cker/docker"]),
    ("b.gcr.io/test.example.com/my-app", True, ["b.gcr.io", "test.example.com/my-app"]),
    ("registry.io/foo/project--id.module--name.ver---sion--name", True,
     ["registry.io", "foo/project--id.module--name.ver---sion--name"]),
    ("Asdf.com/foo/bar", True, None),
    ("Foo/FarB", False, None),
]


@pytest.mark.parametrize("text,match,subs", [pytest.param(*r, id=_short_id(r[0]) or "<empty>") for r in FULL_NAME_REGEXP])
def test_full_name_regexp(text, match, subs):
    found = ANCHORED_NAME_RE.match(text)
    assert (found is not None) == match
    if found is not None and subs is not None:
        assert [g or "" for g in found.groups()] == subs


# -- regexp_test.go: TestReferenceRegexp ---------------------------------------

BE17 = "sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912"

REFERENCE_REGEXP = [
    ("registry.com:8080/myapp:tag", True, ["registry.com:8080/myapp", "tag", ""]),
    (f"registry.com:8080/myapp@{BE17}", True, ["registry.com:8080/myapp", "", BE17]),
    (f"registry.com:8080/myapp:tag2@{BE17}", True, ["registry.com:8080/myapp", "tag2", BE17]),
    ("registry.com:8080/myapp@sha256:badbadbadbad", False, None),
    ("registry.com:8080/myapp:invalid~tag", False, None),
    ("bad_hostname.com:8080/myapp:tag", False, None),
    (f"localhost:8080@{BE17}", True, ["localhost", "8080", BE17]),  # localhost as a name, 8080 as its tag
    (f"localhost:8080/name@{BE17}", True, ["localhost:8080/name", "", BE17]),
    (f"localhost:http/name@{BE17}", False, None),
    (f"localhost@{BE17}", True, ["localhost", "", BE17]),
    ("registry.com:8080/myapp@bad", False, None),
    ("registry.com:8080/myapp@2bad", False, None),
]


@pytest.mark.parametrize("text,match,subs", REFERENCE_REGEXP)
def test_reference_regexp(text, match, subs):
    found = REFERENCE_RE.match(text)
    assert (found is not None) == match
    if found is not None:
        assert [g or "" for g in found.groups()] == subs
        assert str(parse_unnormalized(text)) == text


# -- regexp_test.go: TestIdentifierRegexp --------------------------------------

IDENTIFIER_REGEXP = [
    ("da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821", True),
    ("7EC43B381E5AEFE6E04EFB0B3F0693FF2A4A50652D64AEC573905F2DB5889A1C", False),
    ("da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf", False),
    ("sha256:da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821", False),
    ("da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf98218482", False),
]


@pytest.mark.parametrize("text,match", IDENTIFIER_REGEXP)
def test_identifier_regexp(text, match):
    assert (IDENTIFIER_RE.match(text) is not None) == match


# -- go-digest Digest.Validate (what reference.Parse calls on the digest) ------
# Facts from go-digest's digest.go/algorithm.go, not from a test table.

GO_DIGEST = [
    (SHA256_F, None),
    ("sha384:" + "f" * 96, None),
    (SHA512_F, None),
    ("sha256:" + "f" * 63, "digest.ErrDigestInvalidLength"),
    ("sha256:" + "F" * 64, "digest.ErrDigestInvalidFormat"),  # hex must be lower case
    ("sha256:" + "g" * 64, "digest.ErrDigestInvalidFormat"),
    ("invaliddigest:" + "f" * 64, "digest.ErrDigestUnsupported"),
    ("md5:d41d8cd98f00b204e9800998ecf8427e", "digest.ErrDigestUnsupported"),
    ("Sha256:" + "f" * 64, "digest.ErrDigestInvalidFormat"),  # not go-digest syntax, so not "unsupported"
    (":" + "f" * 64, "digest.ErrDigestInvalidFormat"),
    ("sha256:", "digest.ErrDigestInvalidFormat"),
    ("sha256", "digest.ErrDigestInvalidFormat"),
]


@pytest.mark.parametrize("digest,error", GO_DIGEST)
def test_validate_digest(digest, error):
    if error is None:
        assert validate_digest(digest) == digest
    else:
        raises_kind(error, validate_digest, digest)


# -- derived checks (not upstream vectors): Go-vs-Python regexp pitfalls ---------

@pytest.mark.parametrize("text", [
    "busybox\n",                        # '$' would match before a trailing newline
    "busybox:latest\n",
    HEX64 + "\n",
    "busybox:caf\u00e9",                # Go's \w is ASCII
    "busybox:\u0663",                   # Arabic-Indic digit: \d/\w in Python, not in Go
    "busybox:" + "a" * 129,             # tag longer than 128
])
def test_python_regexp_pitfalls_are_rejected(text):
    raises_kind("ErrReferenceInvalidFormat", parse_reference, text)


def test_tag_of_128_characters_is_valid():
    assert parse_reference("busybox:" + "a" * 128).tag == "a" * 128


def test_id_shaped_strings_are_not_ids_with_a_newline():
    assert not IDENTIFIER_RE.match(HEX64 + "\n")
    assert not is_image_id_prefix("abcdef\n")


@pytest.mark.parametrize("ref,familiar", [
    # distribution prints these without docker.io/library/, which then parse as something else
    (Reference("docker.io", "foo.bar/app"), "docker.io/foo.bar/app"),
    (Reference("docker.io", "localhost/app"), "docker.io/localhost/app"),
    (Reference("docker.io", "library/" + HEX64), "library/" + HEX64),
    # and the usual shortening
    (Reference("docker.io", "library/app", "1"), "app:1"),
    (Reference("docker.io", "user/app"), "user/app"),
])
def test_familiar_name_stays_unambiguous(ref, familiar):
    assert ref.familiar() == familiar
    assert parse_reference(ref.familiar()) == ref


# -- hypothesis properties -----------------------------------------------------

_ALNUM = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
_SEP = st.sampled_from([".", "_", "__", "-", "--", "---"])


@st.composite
def path_components(draw):
    parts = [draw(_ALNUM)]
    for _ in range(draw(st.integers(0, 3))):
        parts += [draw(_SEP), draw(_ALNUM)]
    return "".join(parts)


_LABEL = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?", fullmatch=True)
_PORT = st.integers(0, 99999).map(lambda p: f":{p}")


@st.composite
def domains(draw):
    kind = draw(st.sampled_from(["dns", "ipv4", "ipv6", "localhost", "hub"]))
    if kind == "hub":
        return "docker.io"
    if kind == "localhost":
        host = "localhost"
    elif kind == "ipv4":
        host = ".".join(str(draw(st.integers(0, 255))) for _ in range(4))
    elif kind == "ipv6":
        host = "[" + draw(st.from_regex(r"[a-fA-F0-9]{1,4}(:[a-fA-F0-9]{0,4}){1,7}", fullmatch=True)) + "]"
    else:
        labels = draw(st.lists(_LABEL, min_size=1, max_size=4))
        host = ".".join(labels)
    port = draw(st.one_of(st.just(""), _PORT))
    domain = host + port
    # The parser must see it as a registry: '.', ':', "localhost" or upper case.
    if not (any(c in domain for c in ".:") or domain == "localhost" or domain.lower() != domain):
        domain += ".io"
    if domain == "index.docker.io":
        domain = "docker.io"
    return domain


_TAGS = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", fullmatch=True)


@st.composite
def digests(draw):
    algorithm, length = draw(st.sampled_from([("sha256", 64), ("sha384", 96), ("sha512", 128)]))
    return f"{algorithm}:" + draw(st.text("0123456789abcdef", min_size=length, max_size=length))


@st.composite
def references(draw):
    domain = draw(domains())
    path = "/".join(draw(st.lists(path_components(), min_size=1, max_size=4)))
    if domain == "docker.io" and "/" not in path:
        path = "library/" + path
    tag = draw(st.one_of(st.none(), _TAGS))
    digest = draw(st.one_of(st.none(), digests()))
    return Reference(domain, path, tag, digest)


_FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_FAST
@given(references())
def test_property_round_trip(ref):
    assert parse_reference(str(ref)) == ref
    assert parse_reference(ref.familiar()) == ref
    assert parse_unnormalized(str(ref)) == ref
    assert parse_canonical(str(ref)) == ref
    assert ref.repository.with_tag("latest") == Reference(ref.domain, ref.path, "latest")


_PARSERS = [parse_reference, parse_unnormalized, parse_canonical, validate_digest]


def _only_invalid_reference(text):
    for parse in _PARSERS:
        try:
            parse(text)
        except InvalidReference as exc:
            assert "\n" not in str(exc)


@_FAST
@given(st.text())
def test_property_arbitrary_text_raises_only_invalid_reference(text):
    _only_invalid_reference(text)


@_FAST
@given(st.text(alphabet="aAz09_.-:/@[]", max_size=40))
def test_property_reference_alphabet_raises_only_invalid_reference(text):
    # Text from the grammar's own characters reaches deeper than st.text().
    _only_invalid_reference(text)
    try:
        ref = parse_reference(text)
    except InvalidReference:
        return
    assert parse_reference(str(ref)) == ref
