"""Errors raised by the Go-template engine."""

from __future__ import annotations

from engine.errors import StrataError


class TemplateError(StrataError, ValueError):
    """A template that does not parse, or fails while it executes.

    The message is one line in Go's style, e.g.
    ``template: :1:7: executing "" at <.Foo.Bar>: nil pointer evaluating interface {}.Bar``.
    """

    title = "Template error"


class ArgTypeError(Exception):
    """Raised by a template function for an argument of the wrong type.

    The executor reports it without Go's ``error calling NAME:`` prefix, the way
    Go reports an argument it cannot convert to the parameter's type.
    """
