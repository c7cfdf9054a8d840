"""Registry answers turned into one-line :class:`RegistryError` messages that say what to do.

The distribution spec's error body is ``{"errors": [{"code", "message",
"detail"}]}``; the codes Strata explains are listed in :data:`HINTS`.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from ..errors import RegistryError

if TYPE_CHECKING:  # only for annotations: importing requests costs ~100 ms at start-up
    import requests

#: What to tell the user for each error code ({registry}, {repo} and {retry} are filled in).
HINTS = {
    "UNAUTHORIZED": "authentication required: run 'strata login {registry}'",
    "DENIED": "access denied to {repo}: check the name and that your account may use it "
              "('strata login {registry}')",
    "MANIFEST_UNKNOWN": "manifest unknown: no such tag or digest in {repo} (list them with 'strata tags {repo}')",
    "NAME_UNKNOWN": "repository {repo} not found on {registry}: check the name ('strata catalog {registry}')",
    "BLOB_UNKNOWN": "blob unknown to {registry}: the image in {repo} is incomplete; push it again",
    "BLOB_UPLOAD_UNKNOWN": "upload session lost by {registry}: try the push again",
    "BLOB_UPLOAD_INVALID": "{registry} rejected the uploaded data: try the push again",
    "DIGEST_INVALID": "{registry} says the uploaded content does not match its digest: try again",
    "MANIFEST_INVALID": "{registry} rejected the manifest as invalid",
    "MANIFEST_BLOB_UNKNOWN": "{registry} does not have a blob the manifest names: push the image again",
    "NAME_INVALID": "invalid repository name {repo}",
    "TAG_INVALID": "invalid tag for {repo}",
    "SIZE_INVALID": "{registry} says a blob has the wrong size: try the push again",
    "UNSUPPORTED": "{registry} does not support this operation",
    "TOOMANYREQUESTS": "too many requests to {registry}: wait {retry} and try again",
}

_STATUS_CODES = {401: "UNAUTHORIZED", 403: "DENIED", 429: "TOOMANYREQUESTS", 405: "UNSUPPORTED"}


class RegistryResponseError(RegistryError):
    """A registry answered with an error status; ``status``/``code`` say which."""

    def __init__(self, message: str, status: int, code: str | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after


class RegistryUnreachable(RegistryError):
    """The registry could not be reached, or the connection broke (retrying may help)."""

    title = "Registry unreachable"


def retry_after(response: requests.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime  # here: email.utils is slow to import

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def error_codes(response: requests.Response) -> list[tuple[str, str]]:
    """(code, message) pairs from a distribution error body (small bodies only)."""
    try:
        body = json.loads(response.content[:65536] or b"{}")
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    out = []
    for err in errors or []:
        if isinstance(err, dict) and isinstance(err.get("code"), str):
            out.append((err["code"], str(err.get("message") or "")))
    return out


def response_error(response: requests.Response, what: str, registry: str,
                   repo: str | None = None) -> RegistryResponseError:
    """The RegistryError for a failed *response* to the request doing *what*."""
    status = response.status_code
    codes = error_codes(response)
    code = codes[0][0] if codes else _STATUS_CODES.get(status)
    if code is None and status == 404:
        code = "NOT_FOUND"
    wait = retry_after(response)
    hint = HINTS.get(code or "")
    fill = {"registry": registry, "repo": repo or "the repository",
            "retry": f"{wait:.0f}s" if wait is not None else "a while"}
    if hint is not None:
        detail = hint.format(**fill)
    elif code == "NOT_FOUND":
        detail = f"not found on {registry}"
    else:
        server = "; ".join(m or c for c, m in codes) or (response.reason or "error")
        detail = f"{registry} answered {status} {server}"
    return RegistryResponseError(f"{what}: {detail}", status, code, wait)
