"""Start-up stays light: ``import engine`` and the local commands don't load the HTTP
client (requests, urllib3), rich's live view or the Dockerfile builder; those load on
first use.  Each check runs in a fresh interpreter (this process has imported them all).
No timings: only which modules end up in ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Modules that only registry, pull/push progress and build work need.
HEAVY = (
    "requests", "urllib3", "charset_normalizer", "rich.console", "rich.live",
    "engine.build.builder", "engine.registry.client", "engine.registry.transport",
    "engine.registry.pull", "engine.registry.push", "engine.registry.explore",
)

_REPORT = "import json, sys; print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))"


def _loaded(code: str) -> list[str]:
    """The HEAVY modules loaded after running *code* in a fresh interpreter."""
    script = code + "\n" + _REPORT.format(heavy=HEAVY)
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _cli(*args: str) -> str:
    """Code that runs ``strata ARGS`` as ``python -m cli.main`` would, keeping its exit quiet."""
    argv = ["strata", *args]
    return (
        "import contextlib, io, runpy, sys\n"
        f"sys.argv = {argv!r}\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "    try:\n"
        "        runpy.run_module('cli.main', run_name='__main__', alter_sys=True)\n"
        "    except SystemExit:\n"
        "        pass\n"
    )


def test_import_engine_is_light():
    assert _loaded("import engine") == []


def test_import_registry_and_build_packages_is_light():
    assert _loaded("import engine.registry, engine.build, engine.registry.ops, engine.build.ops\n"
                   "from engine.registry import RegistryResponseError, RegistryUnreachable") == []


@pytest.mark.parametrize("args", [
    ("images",),
    ("images", "-a"),
    ("inspect", "no-such-image"),
    ("--help",),
])
def test_local_commands_are_light(tmp_path, args):
    store = str(tmp_path / "store")
    assert _loaded(_cli("--store", store, *args)) == []


def test_lazy_names_still_resolve():
    code = (
        "import engine.registry as registry, engine.build as build\n"
        "from engine.registry import PullResult, PushResult\n"
        "from engine.build import BuildError\n"
        "from engine.registry.pull import PullResult as P\n"
        "from engine.build.errors import BuildError as B\n"
        "assert PullResult is P and registry.PullResult is P and BuildError is B and build.BuildError is B\n"
        "assert {'PullResult', 'PushResult'} <= set(dir(registry)) and 'BuildError' in dir(build)\n"
    )
    # Asking for the registry results loads the client (on first use, as intended).
    assert {"requests", "engine.registry.pull", "engine.registry.push"} <= set(_loaded(code))


def test_registry_response_error_is_a_registry_error():
    from engine import RegistryError
    from engine.registry import RegistryResponseError

    err = RegistryResponseError("pulling x: denied", 403, "DENIED")
    assert isinstance(err, RegistryError) and err.status == 403 and err.code == "DENIED"
