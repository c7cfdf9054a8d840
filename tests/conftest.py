"""Shared fixtures: every test gets its own store and docker config, never the user's."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from cli.main import main  # noqa: E402
from engine import Engine  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    """Keep the user's store, ~/.docker and data dirs out of every test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("STRATA_HOME", str(home / "strata"))
    monkeypatch.setenv("DOCKER_CONFIG", str(home / "docker"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("TZ", "UTC")
    yield home


@pytest.fixture
def store_dir(tmp_path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def engine(store_dir) -> Engine:
    return Engine(store_dir)


class CLIResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"CLIResult(code={self.code}, out={self.out[:500]!r}, err={self.err[:500]!r})"


@pytest.fixture
def cli(store_dir, capsysbinary, monkeypatch):
    """Run ``strata --store STORE ARGS…`` in-process; returns code, stdout and stderr."""

    def run(*args: str, stdin: bytes | None = None) -> CLIResult:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        try:
            code = main(["--store", str(store_dir), *map(str, args)])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsysbinary.readouterr()
        return CLIResult(code, out.decode(errors="replace"), err.decode(errors="replace"))

    return run


@pytest.fixture(scope="session")
def umoci_layout(tmp_path_factory):
    """A four-layer OCI layout built by umoci (tag ``base``): whiteout, opaque dir,
    symlink, hardlink, setuid file, file replaced by a directory."""
    from factory import umoci_image

    return umoci_image(tmp_path_factory.mktemp("umoci"))


@pytest.fixture(scope="session")
def docker_archive(umoci_layout, tmp_path_factory):
    """The umoci image as ``skopeo copy … docker-archive:`` writes it (legacy docker save layout)."""
    from factory import skopeo_copy

    path = tmp_path_factory.mktemp("da") / "image.tar"
    skopeo_copy(f"oci:{umoci_layout}:base", f"docker-archive:{path}:example.com/test/base:1")
    return path


@pytest.fixture(scope="session")
def oci_archive(umoci_layout, tmp_path_factory):
    """The umoci image as an OCI layout tar (skopeo's ``oci-archive:``), gzip layers."""
    from factory import skopeo_copy

    path = tmp_path_factory.mktemp("oa") / "image.tar"
    skopeo_copy(f"oci:{umoci_layout}:base", f"oci-archive:{path}:test/oci:2")
    return path
