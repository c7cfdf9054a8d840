"""Splitting an instruction line into name, builder flags and arguments.

Flags are the leading words that start with ``--`` (``COPY --from=x a b``);
the first other word, or a lone ``--``, ends them.  Quotes and the escape
token may be used inside a flag.  Like BuildKit, the flag scanner walks the
line byte by byte: a byte >= 0x80 is taken as the code point of that value
(so non-ASCII flag text comes out as Latin-1 mojibake, exactly as BuildKit
produces it) and bytes 0x85 and 0xA0 count as white space.
"""

from __future__ import annotations

from .directives import Directives
from .gotext import RE_WHITESPACE, decode, encode, is_space_byte, trim_space

_SPACES, _WORD, _QUOTE = range(3)
_DASH = ord("-")
_QUOTES = (ord("'"), ord('"'))


def split_command(line: str, directives: Directives) -> tuple[str, list[str], str]:
    """Return (instruction, flags, arguments) of a logical line."""
    parts = RE_WHITESPACE.split(trim_space(line), maxsplit=1)
    flags: list[str] = []
    args = ""
    if len(parts) == 2:
        args, flags = extract_builder_flags(parts[1], directives.escape_token)
    return parts[0], flags, trim_space(args)


class _FlagScanner:
    """State of the byte-wise flag scan (BuildKit's ``extractBuilderFlags``)."""

    def __init__(self, data: bytes, escape: int) -> None:
        self.data = data
        self.escape = escape
        self.phase = _SPACES
        self.word: list[str] = []
        self.blank_ok = False
        self.quote = 0
        self.words: list[str] = []

    def finish_word(self) -> str:
        """Return the current word and start a new one."""
        word = "".join(self.word)
        self.word, self.blank_ok = [], False
        return word

    def take_escaped(self, pos: int) -> int:
        """Handle an escape token at *pos*; return the position of the char to add, or -1."""
        if pos + 1 == len(self.data):
            return -1
        return pos + 1


def extract_builder_flags(line: str, escape_token: str) -> tuple[str, list[str]]:
    """Cut the leading ``--flag`` words off *line*; return (rest, flags)."""
    data = encode(line)
    scan = _FlagScanner(data, ord(escape_token))
    pos, size = 0, len(data)
    while pos <= size:
        if scan.phase == _SPACES:
            if pos == size:
                break
            char = data[pos]
            if is_space_byte(char):
                pos += 1
                continue
            if char != _DASH or pos + 1 == size or data[pos + 1] != _DASH:
                return decode(data[pos:]), scan.words
            scan.phase = _WORD
        if pos == size:
            word = scan.finish_word()
            if word != "--" and (word or scan.blank_ok):
                scan.words.append(word)
            break
        pos = _step(scan, pos)
        if pos < 0:
            return decode(data[-pos - 1 :]), scan.words
    return "", scan.words


def _step(scan: _FlagScanner, pos: int) -> int:
    """Consume the byte at *pos* inside a word or quote; return the next position.

    A negative result ``-p - 1`` means "a lone ``--`` ended the flags at p".
    """
    char = scan.data[pos]
    if scan.phase == _WORD:
        if is_space_byte(char):
            scan.phase = _SPACES
            blank_ok = scan.blank_ok
            word = scan.finish_word()
            if word == "--":
                return -pos - 1
            if word or blank_ok:
                scan.words.append(word)
            return pos + 1
        if char in _QUOTES:
            scan.quote, scan.blank_ok, scan.phase = char, True, _QUOTE
            return pos + 1
    elif char == scan.quote:
        scan.phase = _WORD
        return pos + 1
    if char == scan.escape:
        target = scan.take_escaped(pos)
        if target < 0:
            if scan.phase == _QUOTE:
                scan.phase = _WORD
            return pos + 1
        pos, char = target, scan.data[target]
    scan.word.append(chr(char))
    return pos + 1
