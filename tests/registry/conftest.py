"""Registry fixtures: real docker-registry processes (plain, htpasswd, token auth), a token
issuer, fault proxies, and small images loaded into the test's store."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from registry_servers import (  # noqa: F401 - re-exported names used by fixtures
    PASSWORD,
    USER,
    load_image,
    FaultProxy,
    RegistryServer,
    TokenIssuer,
    bcrypt_hash,
    make_tls_files,
)



@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    """A plain http docker-registry on 127.0.0.1 with deletes enabled."""
    server = RegistryServer(tmp_path_factory.mktemp("registry"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory):
    """A docker-registry behind htpasswd Basic auth (user alice)."""
    work = tmp_path_factory.mktemp("basic-registry")
    htpasswd = work / "htpasswd"
    htpasswd.write_text(f"{USER}:{bcrypt_hash(PASSWORD)}\n")
    server = RegistryServer(work, auth={"htpasswd": {"realm": "strata-test", "path": str(htpasswd)}})
    yield server
    server.stop()


@pytest.fixture(scope="session")
def token_issuer(tmp_path_factory):
    """A distribution-spec token server that knows user alice."""
    pytest.importorskip("cryptography", reason="the token issuer signs JWTs with cryptography")
    issuer = TokenIssuer(tmp_path_factory.mktemp("issuer"), {USER: PASSWORD})
    yield issuer
    issuer.stop()


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory, token_issuer):
    """A docker-registry configured for bearer tokens from :func:`token_issuer`."""
    server = RegistryServer(tmp_path_factory.mktemp("token-registry"), auth=token_issuer.registry_auth())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_registry(tmp_path_factory):
    """A docker-registry serving https with a certificate from its own CA (``.ca_file``)."""
    pytest.importorskip("cryptography", reason="the test CA is made with cryptography")
    work = tmp_path_factory.mktemp("tls-registry")
    ca, cert, key = make_tls_files(work)
    server = RegistryServer(work, tls=(cert, key))
    server.ca_file = ca
    yield server
    server.stop()


@pytest.fixture
def proxy(registry):
    """A fault proxy in front of the plain registry (faults off until a test sets them)."""
    p = FaultProxy(registry)
    yield p
    p.stop()


@pytest.fixture(autouse=True)
def quick_retries(engine):
    """Retries without long sleeps, so fault tests stay fast."""
    engine.registry_settings.backoff = 0.01
    yield


# -- images -----------------------------------------------------------------------------------


SMALL_LAYERS = [
    {"etc/hostname": b"strata\n", "bin/tool": b"#!/bin/sh\necho hi\n"},
    {"app/data.txt": b"data " * 1000},
]


@pytest.fixture
def small_image(engine):
    """A two-layer image tagged ``local/small:1`` (layers stored uncompressed)."""
    return load_image(engine, "local/small:1", SMALL_LAYERS)


@pytest.fixture
def source(tmp_path):
    """Another store (a second machine) that pushes images the test then pulls."""
    from engine import Engine

    src = Engine(tmp_path / "source-store")
    src.registry_settings.backoff = 0.01
    load_image(src, "local/small:1", SMALL_LAYERS)
    return src


@pytest.fixture
def big_image(engine):
    """A one-layer image with 4 MiB of random data, for resume tests."""
    return load_image(engine, "local/big:1", [{"blob.bin": os.urandom(4 << 20)}])

