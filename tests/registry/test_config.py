"""Registry trust settings and config.json handling, without a registry."""

from __future__ import annotations

import json
import stat

import pytest

from engine import RegistryError
from engine.registry.credentials import Credentials, DockerConfig
from engine.registry.hosts import (
    RegistrySettings,
    api_host,
    is_loopback,
    normalize_registry,
)


@pytest.mark.parametrize("host, loopback", [
    ("localhost:5000", True), ("127.0.0.1", True), ("127.1.2.3:80", True), ("[::1]:5000", True),
    ("10.0.0.1:5000", False), ("registry.example.com", False), ("localhost.example.com", False),
])
def test_loopback_hosts_may_use_plain_http(host, loopback):
    assert is_loopback(host) is loopback
    assert RegistrySettings().allows_plain_http(host) is loopback


def test_insecure_list_takes_hosts_and_cidr_ranges(tmp_path):
    (tmp_path / "registries.json").write_text(json.dumps(
        {"insecure-registries": ["myreg.local:5000", "10.1.0.0/16", "https://other.example/"]}))
    settings = RegistrySettings.load(tmp_path)
    assert settings.is_insecure("myreg.local:5000")
    assert settings.is_insecure("10.1.2.3:443") and not settings.is_insecure("10.2.0.1")
    assert settings.is_insecure("other.example")
    assert not settings.is_insecure("myreg.local:5001")


def test_bad_settings_file_is_a_clear_error(tmp_path):
    (tmp_path / "registries.json").write_text('{"insecure-registries": "nope"}')
    with pytest.raises(RegistryError, match="must be a list"):
        RegistrySettings.load(tmp_path)


def test_docker_hub_names():
    assert api_host("docker.io") == "registry-1.docker.io"
    for name in ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"):
        assert normalize_registry(name) == "docker.io"
    assert normalize_registry("http://Reg.Example:5000/v2/") == "reg.example:5000"


def test_config_json_round_trip_keeps_other_keys(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"psFormat": "table", "auths": {
        "https://index.docker.io/v1/": {"auth": "dXNlcjpwdw=="}}}))
    config = DockerConfig(tmp_path)
    assert config.get("docker.io") == Credentials("user", "pw")
    config.store("reg.example:5000", Credentials("bob", "p:w"))
    data = json.loads((tmp_path / "config.json").read_text())
    assert data["psFormat"] == "table" and set(data["auths"]) == {"https://index.docker.io/v1/", "reg.example:5000"}
    assert stat.S_IMODE((tmp_path / "config.json").stat().st_mode) == 0o600
    assert config.get("http://reg.example:5000") == Credentials("bob", "p:w")
    assert "p:w" not in repr(config.get("reg.example:5000"))
    assert config.erase("reg.example:5000") and not config.erase("reg.example:5000")


def test_broken_config_json_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text("{nope")
    with pytest.raises(RegistryError, match="invalid JSON"):
        DockerConfig(tmp_path).get("x")


def test_missing_credential_helper_says_what_to_do(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"credsStore": "does-not-exist-strata"}))
    with pytest.raises(RegistryError, match="docker-credential-does-not-exist-strata is not installed"):
        DockerConfig(tmp_path).get("x")
