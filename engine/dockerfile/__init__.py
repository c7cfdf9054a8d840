"""Dockerfile parsing that matches BuildKit's parser.

``parse(text)`` returns a :class:`Result` whose ``ast`` is a tree of
:class:`Node` like BuildKit's ``parser.Node``; ``dump(node)`` prints it as
``Node.Dump()`` does; ``validate_instructions(result)`` rejects unknown
instructions as BuildKit's instruction layer does.
"""

from .directives import DEFAULT_ESCAPE_TOKEN
from .dump import dump
from .errors import DockerfileParseError, DockerfileSyntaxError
from .heredoc import parse_heredoc
from .node import Heredoc, Node, ParseWarning, Result, chomp_heredoc_content
from .parser import parse
from .validate import KNOWN_INSTRUCTIONS, validate_instructions

__all__ = [
    "DEFAULT_ESCAPE_TOKEN",
    "DockerfileParseError",
    "DockerfileSyntaxError",
    "Heredoc",
    "KNOWN_INSTRUCTIONS",
    "Node",
    "ParseWarning",
    "Result",
    "chomp_heredoc_content",
    "dump",
    "parse",
    "parse_heredoc",
    "validate_instructions",
]
