"""Go ``text/template`` for Docker-style ``--format`` flags, in pure Python.

Usage::

    from cli.gotemplate import render, compile, TemplateError

    render('{{.Id}} {{join .RepoTags ","}}', image_dict)
    tmpl = compile("{{range .Config.Env}}{{println .}}{{end}}")
    tmpl.execute(image_dict)

Data is plain Python: mappings are looked up by key (``.Config.Env``), other
objects by attribute (bound methods are called).  Go's predefined functions
and Docker's (``json split join title lower upper pad truncate``) are
available; ``funcs`` adds or overrides functions.  Every failure is a
:class:`TemplateError` with a one-line, positioned message.

The ``table`` prefix of Docker's formats is not handled here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import TemplateError
from .executor import Executor
from .funcs import BUILTINS, DOCKER_FUNCS, MISSING, go_json_marshal
from .nodes import ListNode
from .parser import parse

__all__ = [
    "DEFAULT_FUNCS",
    "MISSING",
    "Template",
    "TemplateError",
    "compile",
    "go_json_marshal",
    "render",
]

#: Functions every template gets: Go's predefined ones plus Docker's.
DEFAULT_FUNCS: Mapping[str, Callable[..., Any]] = {**BUILTINS, **DOCKER_FUNCS}


class Template:
    """A parsed template; :meth:`execute` renders it against data."""

    def __init__(self, source: str, name: str, root: ListNode, defines: dict[str, ListNode],
                 funcs: Mapping[str, Callable[..., Any]]) -> None:
        self.source = source
        self.name = name
        self._root = root
        self._defines = defines
        self._funcs = funcs

    def __repr__(self) -> str:
        return f"Template({self.source!r})"

    @property
    def defined_templates(self) -> list[str]:
        """Names of the templates made by ``define`` and ``block``."""
        return sorted(self._defines)

    def execute(self, data: Any) -> str:
        """Render the template with ``data`` as ``.`` and ``$``."""
        executor = Executor(self.source, self.name, self._defines, self._funcs)
        try:
            return executor.run(self._root, data)
        except RecursionError:
            raise TemplateError(f"template: {self.name}: data or templates nested too deeply") from None


def compile(template: str, funcs: Mapping[str, Callable[..., Any]] | None = None,
            name: str = "") -> Template:
    """Parse ``template``; ``funcs`` adds to (or overrides) :data:`DEFAULT_FUNCS`.

    (Shadows the builtin ``compile`` inside this package's namespace only.)
    """
    all_funcs = {**DEFAULT_FUNCS, **(funcs or {})}
    root, defines = parse(template, name, all_funcs)
    return Template(template, name, root, defines, all_funcs)


def render(template: str, data: Any, funcs: Mapping[str, Callable[..., Any]] | None = None) -> str:
    """Parse and execute ``template`` against ``data`` in one step."""
    return compile(template, funcs).execute(data)
