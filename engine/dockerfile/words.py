"""Word splitting for ENV, LABEL and ARG (BuildKit's ``parseWords``).

Words are separated by white space outside quotes.  Quotes and escape
tokens are kept in the words: they are removed later, when the instruction
is evaluated.  Inside single quotes the escape token is an ordinary char.
"""

from __future__ import annotations

from .gotext import is_space, rune_text

_SPACES, _WORD, _QUOTE = range(3)


class _WordScanner:
    """State of one ``parseWords`` run."""

    def __init__(self, text: str, escape: str) -> None:
        self.text = text
        self.escape = escape
        self.phase = _SPACES
        self.quote = ""
        self.blank_ok = False
        self.word: list[str] = []
        self.words: list[str] = []

    def flush(self) -> None:
        """End the current word, keeping it if non-empty or quoted."""
        if self.word or self.blank_ok:
            self.words.append("".join(self.word))
        self.word, self.blank_ok = [], False

    def in_word(self, pos: int) -> int:
        """Consume the char at *pos* outside quotes; return the next position."""
        char = self.text[pos]
        if is_space(char):
            self.phase = _SPACES
            self.flush()
            return pos + 1
        if char in "'\"":
            self.quote, self.blank_ok, self.phase = char, True, _QUOTE
        if char == self.escape:
            if pos + 1 == len(self.text):
                return pos + 1
            self.word.append(char)
            pos += 1
        self.word.append(self.text[pos])
        return pos + 1

    def in_quote(self, pos: int) -> int:
        """Consume the char at *pos* inside quotes; return the next position."""
        char = self.text[pos]
        if char == self.quote:
            self.phase = _WORD
        if char == self.escape and self.quote != "'":
            if pos + 1 == len(self.text):
                self.phase = _WORD
                return pos + 1
            self.word.append(char)
            pos += 1
        self.word.append(self.text[pos])
        return pos + 1


def parse_words(rest: str, escape_token: str) -> list[str]:
    """Split *rest* into words, keeping quotes and escapes."""
    scan = _WordScanner(rune_text(rest), escape_token)
    pos, size = 0, len(scan.text)
    while pos < size:
        if scan.phase == _SPACES:
            if is_space(scan.text[pos]):
                pos += 1
                continue
            scan.phase = _WORD
        pos = scan.in_word(pos) if scan.phase == _WORD else scan.in_quote(pos)
    if scan.phase != _SPACES:
        scan.flush()
    return scan.words
