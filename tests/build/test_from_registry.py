"""FROM a registry reference that is not in the store: pulled on demand (loopback registry)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from build_helpers import flat_read, write

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "registry"))


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    servers = pytest.importorskip("registry_servers")
    server = servers.RegistryServer(tmp_path_factory.mktemp("registry"))
    yield server
    server.stop()


def test_from_registry_reference_is_pulled(engine, base, ctx, registry):
    if not hasattr(engine, "pull"):
        pytest.skip("this engine has no registry client")
    remote = f"{registry.host}/library/busybox:build"
    engine.tag("busybox:test", remote)
    engine.push(remote, insecure=True)
    engine.remove(["busybox:test", remote], force=True)
    write(ctx, {"Dockerfile": f"FROM {remote}\nRUN echo pulled > /p\n"})
    result = engine.build(ctx)
    assert flat_read(engine, result.image_id, "p") == b"pulled\n"
    assert engine.resolve(remote)
