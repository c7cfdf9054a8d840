"""Instruction-name checks that BuildKit makes after parsing.

BuildKit's parser keeps unknown instructions; its instruction layer rejects
them (``unknown instruction: FORM``) and refuses some ONBUILD triggers.
"""

from __future__ import annotations

from .errors import DockerfileParseError
from .gotext import RE_WHITESPACE, trim_space
from .node import Node, Result

KNOWN_INSTRUCTIONS = frozenset(
    {
        "add",
        "arg",
        "cmd",
        "copy",
        "entrypoint",
        "env",
        "expose",
        "from",
        "healthcheck",
        "label",
        "maintainer",
        "onbuild",
        "run",
        "shell",
        "stopsignal",
        "user",
        "volume",
        "workdir",
    }
)
FORBIDDEN_ONBUILD_TRIGGERS = frozenset({"onbuild", "from", "maintainer"})


def instruction_word(node: Node) -> str:
    """The instruction as written (original case), from the node's original text."""
    return RE_WHITESPACE.split(trim_space(node.original), maxsplit=1)[0]


def _distance(left: str, right: str) -> int:
    """Levenshtein distance of two short words."""
    previous = list(range(len(right) + 1))
    for i, a in enumerate(left, 1):
        current = [i]
        for j, b in enumerate(right, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1]


def _match_case(option: str, original: str) -> str:
    """Spell *option* in the case style of *original* (all lower / all upper)."""
    if original == original.lower():
        return option.lower()
    if original == original.upper():
        return option.upper()
    return option


def suggest_instruction(word: str) -> str | None:
    """The known instruction within edit distance 2 of *word*, as BuildKit suggests."""
    lowered = word.lower()
    match, best = None, 3
    for name in sorted(KNOWN_INSTRUCTIONS):
        distance = _distance(lowered, name)
        if distance < best:
            match, best = _match_case(name, word), distance
    return match


def _unknown_reason(node: Node) -> str:
    word = instruction_word(node)
    suggestion = suggest_instruction(word)
    hint = f" (did you mean {suggestion}?)" if suggestion else ""
    return f"unknown instruction: {word}{hint}"


def _check(node: Node) -> str | None:
    """Why *node* is not a valid instruction, or None."""
    if node.value not in KNOWN_INSTRUCTIONS:
        return _unknown_reason(node)
    trigger = node.sub_instruction if node.value == "onbuild" else None
    if trigger is None:
        return None
    if trigger.value in FORBIDDEN_ONBUILD_TRIGGERS:
        return f"{instruction_word(trigger).upper()} isn't allowed as an ONBUILD trigger"
    return _check(trigger)


def validate_instructions(result: Result) -> None:
    """Raise :class:`DockerfileParseError` for the first unknown instruction."""
    for node in result.ast.children:
        reason = _check(node)
        if reason is not None:
            raise DockerfileParseError(
                reason,
                filename=result.filename,
                line=node.start_line,
                end_line=node.end_line,
                source_lines=result.source_lines,
            )
