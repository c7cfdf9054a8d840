"""Logins against real auth: htpasswd Basic auth, bearer tokens from a token issuer, and a
docker-credential helper; config.json is written 0600 and secrets stay out of sight."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
import time

import pytest
from registry_servers import PASSWORD, USER

from engine import Engine, RegistryError

pytestmark = pytest.mark.peers


def _config(isolated_env) -> dict:
    return json.loads((isolated_env / "docker" / "config.json").read_text())


def _login(cli, host, password=PASSWORD):
    return cli("login", "-u", USER, "--password-stdin", host, stdin=(password + "\n").encode())


def test_basic_auth_login_push_pull_logout(basic_registry, source, cli, isolated_env, tmp_path):
    host = basic_registry.host
    target = basic_registry.repo() + ":1"
    source.tag("local/small:1", target)
    with pytest.raises(RegistryError, match=f"authentication required: run 'strata login {host}'"):
        source.push(target)

    bad = _login(cli, host, "wrong")
    assert bad.code == 1 and "incorrect username or password" in bad.err, bad
    assert not (isolated_env / "docker" / "config.json").exists()

    ok = _login(cli, host)
    assert ok.code == 0 and ok.out == "Login Succeeded\n", ok
    assert "stored unencrypted" in ok.err and PASSWORD not in ok.out + ok.err
    path = isolated_env / "docker" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert base64.b64decode(_config(isolated_env)["auths"][host]["auth"]).decode() == f"{USER}:{PASSWORD}"

    source.push(target)
    assert Engine(tmp_path / "fresh").pull(target).image_id == source.resolve("local/small:1")

    out = cli("logout", host)
    assert out.out == f"Removing login credentials for {host}\n"
    assert host not in _config(isolated_env)["auths"]
    with pytest.raises(RegistryError, match="authentication required"):
        Engine(tmp_path / "after").pull(target)


def test_password_on_the_command_line_warns(basic_registry, cli):
    out = cli("login", "-u", USER, "-p", PASSWORD, basic_registry.host)
    assert out.code == 0
    assert "WARNING! Using --password via the CLI is insecure" in out.err
    assert cli("login", "--password-stdin", basic_registry.host, stdin=b"x").code == 1


def test_token_auth_anonymous_denied_then_login_and_token_cache(token_registry, token_issuer, source, cli,
                                                              tmp_path):
    target = token_registry.repo() + ":1"
    source.tag("local/small:1", target)
    with pytest.raises(RegistryError, match="authentication required"):
        source.push(target)
    assert _login(cli, token_registry.host).code == 0
    assert any(r["user"] == USER for r in token_issuer.requests)
    source.push(target)  # a fresh Engine reads the new config.json
    fresh = Engine(tmp_path / "fresh")
    before = token_issuer.count
    fresh.pull(target)
    assert token_issuer.count - before == 1  # one token for repository:…:pull, reused for every blob
    assert token_issuer.requests[-1]["scopes"] == [f"repository:{target.split('/', 1)[1][:-2]}:pull"]
    fresh.tags(target[:-2])
    fresh.manifest_inspect(target)
    assert token_issuer.count - before == 1  # cached per scope
    fresh.catalog(token_registry.host)
    assert token_issuer.count - before == 2  # a new scope: registry:catalog:*
    assert token_issuer.requests[-1]["scopes"] == ["registry:catalog:*"]


def test_token_is_renewed_after_it_expires(token_registry, token_issuer, source, cli, tmp_path):
    assert _login(cli, token_registry.host).code == 0
    target = token_registry.repo() + ":1"
    source.tag("local/small:1", target)
    source.push(target)
    token_issuer.expires_in = 1
    try:
        fresh = Engine(tmp_path / "fresh")
        before = token_issuer.count
        fresh.tags(target[:-2])
        fresh.tags(target[:-2])
        assert token_issuer.count - before == 1
        time.sleep(1.05)
        fresh.tags(target[:-2])
        assert token_issuer.count - before == 2
    finally:
        token_issuer.expires_in = 300


def test_wrong_password_for_token_registry(token_registry, cli):
    out = _login(cli, token_registry.host, "nope")
    assert out.code == 1 and "incorrect username or password" in out.err


HELPER = """#!{python}
import json, os, sys
store = os.environ["FAKE_HELPER_STORE"]
data = json.load(open(store)) if os.path.exists(store) else {{}}
with open(store + ".log", "a") as log:
    log.write(json.dumps(sys.argv) + "\\n")
action = sys.argv[1]
raw = sys.stdin.read()
if action == "store":
    obj = json.loads(raw)
    data[obj["ServerURL"]] = [obj["Username"], obj["Secret"]]
elif action == "get":
    if raw.strip() not in data:
        print("credentials not found in native keychain")
        sys.exit(1)
    user, secret = data[raw.strip()]
    print(json.dumps({{"ServerURL": raw.strip(), "Username": user, "Secret": secret}}))
elif action == "erase":
    if data.pop(raw.strip(), None) is None:
        print("credentials not found in native keychain")
        sys.exit(1)
json.dump(data, open(store, "w"))
"""


@pytest.mark.parametrize("setting", ["credsStore", "credHelpers"])
def test_credential_helper_stores_gets_and_erases(setting, basic_registry, source, cli, isolated_env,
                                                  tmp_path, monkeypatch):
    host = basic_registry.host
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-fake"
    helper.write_text(HELPER.format(python=sys.executable))
    helper.chmod(0o755)
    store = tmp_path / "helper.json"
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_HELPER_STORE", str(store))
    conf = isolated_env / "docker"
    conf.mkdir(exist_ok=True)
    config = {"credsStore": "fake"} if setting == "credsStore" else {"credHelpers": {host: "fake"}}
    (conf / "config.json").write_text(json.dumps(config))

    out = _login(cli, host)
    assert out.code == 0 and "stored unencrypted" not in out.err, out
    assert json.loads(store.read_text()) == {host: [USER, PASSWORD]}
    assert _config(isolated_env)["auths"] == {host: {}}
    assert _config(isolated_env)[setting] == config[setting]

    target = basic_registry.repo() + ":1"
    source.tag("local/small:1", target)
    source.push(target)  # credentials come from the helper
    assert cli("logout", host).code == 0
    assert json.loads(store.read_text()) == {}
    assert PASSWORD not in (tmp_path / "helper.json.log").read_text()  # never in argv
