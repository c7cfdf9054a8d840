"""Real servers for the registry tests: docker-registry, a token issuer and a fault proxy.

* :class:`RegistryServer` runs Debian's ``docker-registry`` (CNCF distribution
  2.8) on a free 127.0.0.1 port with its own storage directory and a config
  written here (deletes enabled; optional htpasswd or token auth).
* :class:`TokenIssuer` follows the distribution token spec: it checks Basic
  credentials, grants the requested actions to known users (nothing to
  anonymous ones) and signs an RS256 JWT whose ``x5c`` header carries a
  self-signed certificate the registry trusts.  It counts its requests.
* :class:`FaultProxy` is an HTTP reverse proxy in front of a registry that can
  cut a blob download half way, slow it down, corrupt it, answer with error
  statuses, or rewrite ``Accept``; it records every request it forwards.
"""

from __future__ import annotations

import io

import base64
import datetime
import http.client
import http.server
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509.oid import NameOID
except ImportError:  # the token issuer and the TLS registry skip without it
    x509 = None

REGISTRY_BIN = shutil.which("docker-registry") or "/usr/bin/docker-registry"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_cryptography() -> None:
    if x509 is None:
        pytest.skip("needs the cryptography package (pip install cryptography) for test keys and certificates")


def need_registry() -> None:
    if not os.access(REGISTRY_BIN, os.X_OK):
        pytest.skip("needs Debian's docker-registry (apt install docker-registry)")


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash for htpasswd: the ``bcrypt`` package, else libcrypt through ``crypt``."""
    try:
        import bcrypt

        return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()
    except ImportError:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt
        except ImportError:
            pytest.skip("needs bcrypt (pip install bcrypt) to write an htpasswd file")
        hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 5))
    if not hashed or not hashed.startswith("$2"):
        pytest.skip("this libcrypt cannot make bcrypt hashes (pip install bcrypt)")
    return hashed


class RegistryServer:
    """One docker-registry process on 127.0.0.1."""

    def __init__(self, workdir: Path, auth: dict | None = None, extra: dict | None = None,
                 tls: tuple[Path, Path] | None = None) -> None:
        need_registry()
        self.workdir = workdir
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"{'https' if tls else 'http'}://{self.host}"
        storage = workdir / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        config = {
            "version": 0.1,
            "log": {"level": "error", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True},
                        "maintenance": {"uploadpurging": {"enabled": False}}},
            "http": {"addr": self.host, "secret": "strata-tests"},
        }
        if tls:
            config["http"]["tls"] = {"certificate": str(tls[0]), "key": str(tls[1])}
        if auth:
            config["auth"] = auth
        if extra:
            config.update(extra)
        self.config_path = workdir / "config.yml"
        # JSON is YAML: no YAML writer needed.
        self.config_path.write_text(json.dumps(config, indent=2))
        self.log = open(workdir / "registry.log", "wb")  # noqa: SIM115 - closed by stop()
        self.proc = subprocess.Popen([REGISTRY_BIN, "serve", str(self.config_path)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self._wait()

    def _wait(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {(self.workdir / 'registry.log').read_text()[-2000:]}")
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    status = requests.get(self.url + "/v2/", timeout=1, verify=False).status_code
                if status in (200, 401):
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("docker-registry did not answer on /v2/")

    def repo(self, prefix: str = "t") -> str:
        """A fresh repository name on this registry."""
        return f"{self.host}/{prefix}-{uuid.uuid4().hex[:10]}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def make_tls_files(workdir: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it: (ca.crt, server.crt, server.key)."""
    need_cryptography()
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "strata test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = (workdir / "ca.crt", workdir / "server.crt", workdir / "server.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


# -- token issuer ---------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenIssuer:
    """A distribution-spec token server signing JWTs for a registry."""

    SERVICE = "strata-test-registry"
    ISSUER = "strata-test-issuer"

    def __init__(self, workdir: Path, users: dict[str, str]) -> None:
        need_cryptography()
        self.users = users
        self.expires_in = 300
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "strata test token issuer")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=30))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(self._key, hashes.SHA256()))
        self.cert_path = workdir / "token-cert.pem"
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self._x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                issuer._handle(self)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.realm = f"http://127.0.0.1:{self.port}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def count(self) -> int:
        return len(self.requests)

    def registry_auth(self) -> dict:
        return {"token": {"realm": self.realm, "service": self.SERVICE, "issuer": self.ISSUER,
                          "rootcertbundle": str(self.cert_path)}}

    def _handle(self, handler) -> None:
        query = parse_qs(urlsplit(handler.path).query)
        scopes = query.get("scope", [])
        user = None
        header = handler.headers.get("Authorization", "")
        if header.startswith("Basic "):
            name, _, password = base64.b64decode(header[6:]).decode().partition(":")
            if self.users.get(name) != password:
                with self._lock:
                    self.requests.append({"scopes": scopes, "user": name, "ok": False})
                body = b'{"errors":[{"code":"UNAUTHORIZED","message":"invalid credentials"}]}'
                handler.send_response(401)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)
                return
            user = name
        with self._lock:
            self.requests.append({"scopes": scopes, "user": user, "ok": True})
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if user is not None:
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
        token = self._sign({"iss": self.ISSUER, "sub": user or "", "aud": self.SERVICE,
                            "exp": int(time.time()) + self.expires_in, "nbf": int(time.time()) - 10,
                            "iat": int(time.time()), "jti": uuid.uuid4().hex, "access": access})
        body = json.dumps({"token": token, "access_token": token, "expires_in": self.expires_in,
                           "issued_at": datetime.datetime.now(datetime.UTC).isoformat()}).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _sign(self, claims: dict) -> str:
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self._x5c]}
        signing_input = (_b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())).encode()
        signature = self._key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return signing_input.decode() + "." + _b64url(signature)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- fault proxy ---------------------------------------------------------------------------------


@dataclass
class Faults:
    """What the proxy does wrong (all off by default)."""

    cut_blob_after: int | None = None   # close the connection after N body bytes of a blob GET …
    cut_times: int = 1                  # … this many times in total
    rate: float | None = None           # bytes per second for blob bodies
    corrupt_blobs_over: int | None = None  # flip one byte in the middle of blob bodies longer than this
    statuses: list[tuple[str, int, dict]] = field(default_factory=list)  # (path part, status, headers), once each
    accept: str | None = None           # replace the Accept header of manifest requests


class FaultProxy:
    """A threaded HTTP reverse proxy on 127.0.0.1 in front of one registry."""

    def __init__(self, upstream: RegistryServer) -> None:
        self.upstream = upstream
        self.faults = Faults()
        self.log: list[dict] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def log_error(self, *args):
                pass

            def _any(self):
                proxy._forward(self)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def requests_to(self, part: str, method: str | None = None) -> list[dict]:
        with self._lock:
            return [r for r in self.log if part in r["path"] and (method is None or r["method"] == method)]

    def _take_status(self, path: str) -> tuple[int, dict] | None:
        with self._lock:
            for i, (part, status, headers) in enumerate(self.faults.statuses):
                if part in path:
                    del self.faults.statuses[i]
                    return status, headers
        return None

    def _forward(self, h) -> None:
        path, method = h.path, h.command
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ("connection", "transfer-encoding")}
        with self._lock:
            self.log.append({"method": method, "path": path, "headers": dict(headers)})
        body = _read_body(h)
        canned = self._take_status(path)
        if canned is not None:
            status, extra = canned
            payload = json.dumps({"errors": [{"code": extra.pop("code", "UNAVAILABLE"),
                                              "message": "injected by the fault proxy"}]}).encode()
            h.send_response(status)
            for k, v in extra.items():
                h.send_header(k, v)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload)
            return
        if self.faults.accept is not None and "/manifests/" in path:
            headers["Accept"] = self.faults.accept
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            is_blob = method == "GET" and "/blobs/sha256:" in path and resp.status in (200, 206)
            h.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                    h.send_header(k, v)
            length = resp.getheader("Content-Length")
            h.send_header("Content-Length", length or "0")
            h.end_headers()
            if method == "HEAD":
                return
            self._copy_body(h, resp, is_blob)
        finally:
            conn.close()

    def _copy_body(self, h, resp, is_blob: bool) -> None:
        sent = 0
        length = int(resp.getheader("Content-Length") or 0)
        cut = None
        with self._lock:
            if is_blob and self.faults.cut_blob_after is not None and self.faults.cut_times > 0 \
                    and length > self.faults.cut_blob_after:
                self.faults.cut_times -= 1
                cut = self.faults.cut_blob_after
        started = time.monotonic()
        while True:
            chunk = resp.read(64 << 10)
            if not chunk:
                break
            over = self.faults.corrupt_blobs_over
            if is_blob and over is not None and length > over and sent <= length // 2 < sent + len(chunk):
                i = length // 2 - sent
                chunk = chunk[:i] + bytes([chunk[i] ^ 0xFF]) + chunk[i + 1:]
            if cut is not None and sent + len(chunk) >= cut:
                h.wfile.write(chunk[:max(0, cut - sent)])
                h.wfile.flush()
                h.close_connection = True
                h.connection.shutdown(socket.SHUT_RDWR)
                return
            h.wfile.write(chunk)
            sent += len(chunk)
            if is_blob and self.faults.rate:
                ahead = sent / self.faults.rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _read_body(h) -> bytes | None:
    if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
        out = bytearray()
        while True:
            size = int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                h.rfile.readline()
                return bytes(out)
            out += h.rfile.read(size)
            h.rfile.readline()
    length = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(length) if length else None


from factory import docker_archive_bytes, tar_bytes  # noqa: E402

USER, PASSWORD = "alice", "s3cret:with,comma"


def layer_tar(files: dict[str, bytes]) -> bytes:
    """An uncompressed layer tar holding *files* (directories made as needed)."""
    members, dirs = [], set()
    for name in sorted(files):
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in dirs:
                dirs.add(d)
                members.append((d + "/", None, 0o755))
        members.append((name, files[name], 0o644))
    return tar_bytes(members)


def load_image(engine, tag: str, layers: list[dict[str, bytes]], config: dict | None = None) -> str:
    """Load a docker-archive made of *layers* (stored uncompressed) under *tag*; returns the ID."""
    data = docker_archive_bytes([{"layers": [layer_tar(l) for l in layers], "tags": [tag],
                                  "config": config or {}}])
    loaded = engine.load(io.BytesIO(data))
    return loaded[0].id
