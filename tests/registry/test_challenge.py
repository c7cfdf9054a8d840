"""The WWW-Authenticate parser, on the shapes real registries send and RFC 7235's edge cases."""

from __future__ import annotations

import pytest

from engine.registry.challenge import parse_challenges


def test_docker_hub_bearer_challenge():
    [ch] = parse_challenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
                            'scope="repository:library/busybox:pull"')
    assert ch.scheme == "bearer"
    assert ch.params == {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                         "scope": "repository:library/busybox:pull"}


def test_quoted_values_keep_commas_equals_and_escapes():
    [ch] = parse_challenges(r'Bearer realm="https://x/token?a=1,b=2", scope="repository:a/b:pull,push",'
                            r' error="insufficient_scope", note="say \"hi\" \\ bye"')
    assert ch.get("realm") == "https://x/token?a=1,b=2"
    assert ch.get("scope") == "repository:a/b:pull,push"
    assert ch.get("note") == 'say "hi" \\ bye'


def test_several_challenges_in_one_header():
    chs = parse_challenges('Basic realm="Registry Realm", Bearer realm="https://t/token",service=reg')
    assert [c.scheme for c in chs] == ["basic", "bearer"]
    assert chs[0].get("realm") == "Registry Realm"
    assert chs[1].get("service") == "reg"


def test_case_insensitive_scheme_and_names_and_spaces_around_equals():
    [ch] = parse_challenges('BEARER Realm = "r" ,  Service=s')
    assert ch.scheme == "bearer" and ch.get("realm") == "r" and ch.get("service") == "s"


def test_token68_and_bare_scheme():
    chs = parse_challenges("Negotiate abc+/def==, Basic")
    assert chs[0].scheme == "negotiate" and chs[0].token68 == "abc+/def=="
    assert chs[1].scheme == "basic" and chs[1].params == {}


@pytest.mark.parametrize("bad", ['Bearer realm="unterminated', "Bearer realm=a b=c", '=x'])
def test_malformed_headers_raise(bad):
    with pytest.raises(ValueError):
        parse_challenges(bad)
