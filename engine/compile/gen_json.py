"""The JSON of a generated decision's result, written by a template: `result_json(result)`
gives the text `json.dumps(result, ensure_ascii=False, default=report.decision._json_default)`
gives, field by field in the result's order. Each value is written by the kind its static
type says it has (a decimal as its plain text, text by json's own escaping), after a test
of its Python type; anything else goes to json.dumps, so the bytes never depend on a type
being right."""
from __future__ import annotations

import json

from .source import Source

_WRITE = {
    "decimal": ("Decimal", "'\"' + PLAIN_DECIMAL({v}) + '\"'"),
    "integer": ("int", "str({v})"),
    "boolean": ("bool", "('true' if {v} else 'false')"),
    "text": ("str", "ENCODE({v})"),
    "month": ("str", "ENCODE({v})"),
    "date": ("date", "'\"' + {v}.isoformat() + '\"'"),
}


def emitter(src: Source, version) -> None:
    """Writes `def result_json(result)` (and a function per nested object) to src."""
    _function(src, version, version.result, "result_json")


def _function(src: Source, version, fields, name: str) -> None:
    helpers = []
    lines = []
    for n, f in enumerate(fields):
        key = ("{" if n == 0 else ", ") + json.dumps(f.key, ensure_ascii=False) + ": "
        lines.append(f"w = r[{f.key!r}]")
        lines.append(f"out.append({key!r})")
        if f.kind == "value":
            t = version.result_types.get(id(f))
            kind = None if t is None else ("decimal" if f.rounding is not None and t.kind in ("decimal", "integer")
                                           else t.kind)
            if kind in _WRITE:
                pytype, text = _WRITE[kind]
                lines.append(f"out.append({text.format(v='w')} if type(w) is {pytype} else DUMPS(w))")
            else:
                lines.append("out.append(DUMPS(w))")
        elif f.kind in ("each", "object"):
            helper = src.fresh("obj")
            helpers.append((helper, f.fields))
            if f.kind == "each":
                lines.append(f"out.append('[' + ', '.join([{helper}(x) for x in w]) + ']' if type(w) is list "
                             f"else DUMPS(w))")
            else:
                lines.append(f"out.append({helper}(w) if type(w) is dict else DUMPS(w))")
        elif f.kind == "no_violations":
            lines.append("out.append('true' if w is True else 'false' if w is False else DUMPS(w))")
        else:
            lines.append("out.append(DUMPS(w))")
    for helper, sub in helpers:
        _function(src, version, sub, helper)
    with src.block(f"def {name}(r):"):
        if len(r_keys := [f.key for f in fields]) != len(set(r_keys)):   # pragma: no cover - keys are unique
            src.line("return DUMPS(r)")
            return
        src.line(f"if len(r) != {len(fields)}: return DUMPS(r)")
        src.line("out = []")
        for line in lines:
            src.line(line)
        src.line("out.append('}')" if fields else "out.append('{}')")
        src.line("return ''.join(out)")
