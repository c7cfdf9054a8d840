"""``--format`` handling shared by the commands: table, json and Go templates."""

from __future__ import annotations

import re

from .output import go_json, tabwrite


_SIMPLE = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")


def render_template(template: str, data) -> str:
    """Render one Go template against *data* (docker's ``--format``).

    Templates made only of ``{{.Field}}`` actions over a dict (every default
    table) are filled in directly; anything else goes to the Go template engine.
    """
    if isinstance(data, dict) and "{{" in template:
        stripped = _SIMPLE.sub("", template)
        if "{{" not in stripped and "}}" not in stripped:
            return _SIMPLE.sub(lambda m: _field(data, m.group(1)), template)
    from .gotemplate import render

    return render(template, data)


def _field(data: dict, name: str) -> str:
    value = data.get(name)
    if value is None:
        return "<no value>"
    if isinstance(value, str):
        return value
    from .gotemplate.gofmt import format_value

    return format_value(value)


def render_rows(fmt: str, rows: list[dict], headers: dict[str, str]) -> None:
    """Print rows as docker does for ``--format``: ``table …``, ``json`` or a template per row."""
    if fmt == "json":
        for row in rows:
            print(go_json(row))
        return
    if fmt.startswith("table"):
        template = fmt[len("table"):].lstrip() or "\t".join("{{." + k + "}}" for k in headers)
        template = template.replace("\\t", "\t")
        header_ctx = {k: headers.get(k, k.upper()) for k in _all_keys(rows, headers)}
        lines = [render_template(template, header_ctx)] + [render_template(template, r) for r in rows]
        tabwrite(lines)
        return
    template = fmt.replace("\\t", "\t").replace("\\n", "\n")
    for row in rows:
        print(render_template(template, row))


def _all_keys(rows: list[dict], headers: dict[str, str]) -> list[str]:
    keys = list(headers)
    for row in rows[:1]:
        keys += [k for k in row if k not in headers]
    return keys
