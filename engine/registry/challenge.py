"""``WWW-Authenticate`` challenges, parsed as RFC 7235 section 4.1 writes them.

::

    WWW-Authenticate = 1#challenge
    challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
    auth-param       = token BWS "=" BWS ( token / quoted-string )
    quoted-string    = DQUOTE *( qdtext / "\\" any-char ) DQUOTE

One header may hold several challenges separated by commas; a comma also
separates the parameters of one challenge, so a new challenge starts where a
token is *not* followed by ``=``.  Quoted values may hold commas, ``=`` and
backslash escapes (``scope="repository:a:pull,push"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789"
                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TOKEN68_CHARS = frozenset("-._~+/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_SPACE = " \t"


@dataclass(frozen=True)
class Challenge:
    """One challenge: its scheme (lower case) and parameters (names lower case)."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)
    token68: str | None = None

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.params.get(name.lower(), default)


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip(self, chars: str) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1

    def token(self, chars=_TOKEN_CHARS) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1
        return self.text[start:self.pos]

    def quoted(self) -> str:
        """Read a quoted-string (the opening quote is at ``pos``); unescape it."""
        self.pos += 1
        out = []
        while self.pos < len(self.text):
            c = self.text[self.pos]
            self.pos += 1
            if c == "\\" and self.pos < len(self.text):
                out.append(self.text[self.pos])
                self.pos += 1
            elif c == '"':
                return "".join(out)
            else:
                out.append(c)
        raise ValueError("unterminated quoted string")


def parse_challenges(header: str) -> list[Challenge]:
    """All challenges in a ``WWW-Authenticate`` header value.

    Raises ValueError on text that is not a challenge list.
    """
    s = _Scanner(header)
    out: list[Challenge] = []
    while True:
        s.skip(_SPACE + ",")
        if s.at_end():
            return out
        scheme = s.token()
        if not scheme:
            raise ValueError(f"expected an auth scheme at offset {s.pos}")
        params: dict[str, str] = {}
        token68 = None
        s.skip(_SPACE)
        if _token68_follows(s):
            token68 = s.token(_TOKEN68_CHARS)
            token68 += s.token(frozenset("="))
        else:
            _read_params(s, params)
        out.append(Challenge(scheme.lower(), params, token68))


def _token68_follows(s: _Scanner) -> bool:
    """True if what follows is a token68 (``abc==``) rather than ``name=value``."""
    save = s.pos
    try:
        word = s.token(_TOKEN68_CHARS)
        if not word:
            return False
        s.skip("=")
        s.skip(_SPACE)
        return s.at_end() or s.peek() == ","
    finally:
        s.pos = save


def _read_params(s: _Scanner, params: dict[str, str]) -> None:
    """Read ``name=value`` pairs until a token that starts the next challenge."""
    while not s.at_end():
        save = s.pos
        s.skip(_SPACE + ",")
        name = s.token()
        if not name:
            if s.at_end():
                return
            raise ValueError(f"expected a parameter name at offset {s.pos}")
        s.skip(_SPACE)
        if s.peek() != "=":
            s.pos = save  # a scheme: the next challenge begins here
            return
        s.pos += 1
        s.skip(_SPACE)
        value = s.quoted() if s.peek() == '"' else s.token()
        params[name.lower()] = value
        s.skip(_SPACE)
        if not s.at_end() and s.peek() != ",":
            raise ValueError(f"expected ',' after parameter {name!r} at offset {s.pos}")
