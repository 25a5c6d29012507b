"""The JSON of a generated decision's result, written by a template: `result_json(result)`
gives the text `json.dumps(result, ensure_ascii=False, default=report.decision._json_default)`
gives. Each object is one join of constant pieces and values, each value written by the
kind its static type says it has (a decimal as its plain text, text by json's own
escaping); the template is used only when every value's Python type is that kind, else
json.dumps writes the object, so the bytes never depend on a type being right."""
from __future__ import annotations

import json

from .source import Source

_KIND = {"decimal": "Decimal", "integer": "int", "boolean": "bool", "text": "str", "month": "str", "date": "date"}
_WRITE = {"decimal": ('"', "PLAIN_DECIMAL({v})", '"'), "integer": ("", "str({v})", ""),
          "boolean": ("", "('true' if {v} else 'false')", ""), "text": ("", "ENCODE({v})", ""),
          "month": ("", "ENCODE({v})", ""), "date": ('"', "{v}.isoformat()", '"')}


def emitter(src: Source, version) -> None:
    """Writes `def result_json(result)` (and a function per nested object) to src."""
    _function(src, version, version.result, "result_json")


def _function(src: Source, version, fields, name: str) -> None:
    helpers, tests, pieces = [], [], []   # pieces: str (constant text) or ('expr', code)

    def text(s):
        pieces.append(s)

    def value(code):
        pieces.append(("expr", code))

    for n, f in enumerate(fields):
        w = f"w{n}"
        text(("{" if n == 0 else ", ") + json.dumps(f.key, ensure_ascii=False) + ": ")
        if f.kind == "value":
            t = version.result_types.get(id(f))
            kind = None if t is None else ("decimal" if f.rounding is not None and t.kind in ("decimal", "integer")
                                           else t.kind)
            if kind in _KIND and not t.optional:
                tests.append(f"type({w}) is {_KIND[kind]}")
                before, code, after = _WRITE[kind]
                text(before)
                value(code.format(v=w))
                text(after)
            elif kind in _KIND:
                tests.append(f"({w} is None or type({w}) is {_KIND[kind]})")
                before, code, after = _WRITE[kind]
                inner = " + ".join(x for x in (repr(before) if before else "", code.format(v=w),
                                               repr(after) if after else "") if x)
                value(f"('null' if {w} is None else {inner})")
            else:
                value(f"DUMPS({w})")
        elif f.kind in ("each", "object"):
            helper = src.fresh("obj")
            helpers.append((helper, f.fields))
            if f.kind == "each":
                tests.append(f"type({w}) is list")
                text("[")
                value(f"', '.join([{helper}(x) for x in {w}])")
                text("]")
            else:
                tests.append(f"({w} is None or type({w}) is dict)")
                value(f"('null' if {w} is None else {helper}({w}))")
        elif f.kind == "no_violations":
            tests.append(f"type({w}) is bool")
            value(f"('true' if {w} else 'false')")
        else:
            value(f"DUMPS({w})")
    text("}" if fields else "{}")
    for helper, sub in helpers:
        _function(src, version, sub, helper)
    merged: list = []
    for p in pieces:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        elif p != "":
            merged.append(p)
    joined = ", ".join(repr(p) if isinstance(p, str) else p[1] for p in merged)
    with src.block(f"def {name}(r):"):
        if not fields:
            src.line("return '{}' if r == {} else DUMPS(r)")
            return
        src.line(f"if len(r) != {len(fields)}: return DUMPS(r)")
        src.line(f"{', '.join(f'w{n}' for n in range(len(fields)))}, = "
                 f"{', '.join(f'r[{f.key!r}]' for f in fields)},")
        if tests:
            src.line(f"if not ({' and '.join(tests)}): return DUMPS(r)")
        src.line(f"return ''.join(({joined},))")
