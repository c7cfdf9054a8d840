"""TLS: verified by default, a certs.d CA makes a private registry trusted, insecure skips it."""

from __future__ import annotations

import shutil

import pytest

from engine import Engine, RegistryError

pytestmark = pytest.mark.peers

def test_unknown_ca_is_refused_with_advice(tls_registry, tmp_path):
    with pytest.raises(RegistryError, match=rf"certificate verification failed.*certs.d/{tls_registry.host}/ca.crt"):
        Engine(tmp_path / "s").catalog(tls_registry.host)


def test_certs_d_ca_is_trusted(tls_registry, source, isolated_env, tmp_path):
    certs = isolated_env / "docker" / "certs.d" / tls_registry.host
    certs.mkdir(parents=True)
    shutil.copy(tls_registry.ca_file, certs / "ca.crt")
    target = tls_registry.repo() + ":1"
    source.tag("local/small:1", target)
    source.push(target)
    assert Engine(tmp_path / "s").pull(target).image_id == source.resolve("local/small:1")


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_insecure_registry_skips_verification(tls_registry, cli, tmp_path):
    assert cli("catalog", tls_registry.host).code == 1
    out = cli("catalog", "--insecure-registry", tls_registry.host, tls_registry.host)
    assert out.code == 0, out
    (tmp_path / "store").mkdir(exist_ok=True)
    (tmp_path / "store" / "registries.json").write_text('{"insecure-registries": ["127.0.0.0/8"]}')
    assert Engine(tmp_path / "store").catalog(tls_registry.host) is not None
