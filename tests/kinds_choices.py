"""A construct that exists only for tests/test_kinds.py, written as a new construct would be:
one module, the protocol of engine/kinds/__init__.py. `choices: {name: {values: [a, b, c]}}`,
called `name(n)`: the n-th value, counting from 1."""
from __future__ import annotations

from dataclasses import dataclass

from engine import types as T
from engine.errors import Diagnostic, EvaluationError
from engine.kinds.calls import record

SECTION, WORD, CALL_KEY = "choices", "choices", "choices"

_NAMES = {"propertyNames": {"$ref": "#/$defs/name"}}
SECTION_SCHEMA = {
    "rule_file": {"type": "object", "title": "choices", "additionalProperties": {"$ref": "#/$defs/choices"}, **_NAMES},
    "shared_file": {"type": "object", "title": "choices, dated",
                    "additionalProperties": {"$ref": "#/$defs/shared_choices"}, **_NAMES},
}
_VALUES = {"type": "array", "minItems": 1, "title": "the values, first to last"}
SCHEMA = {
    "choices": {"type": "object", "required": ["values"], "additionalProperties": False, "title": "choices {values}",
                "properties": {"values": _VALUES, "assumed": {"type": "string"}}},
    "shared_choices": {"type": "object", "required": ["values"], "additionalProperties": False,
                       "properties": {"values": {"type": "array", "items": {
                           "type": "object", "required": ["from", "published", "values"],
                           "properties": {"from": {"$ref": "#/$defs/date"}, "published": {"$ref": "#/$defs/timestamp"},
                                          "values": _VALUES}}}}},
}


@dataclass(frozen=True)
class Choices:
    name: str
    values: tuple
    assumed: str | None
    where: str


def read(name, spec, at, src, errors) -> Choices:
    values = tuple(spec["values"])
    kinds = sorted({type(v).__name__ for v in values})
    if len(kinds) > 1:
        errors.append(src.diag(at + ("values",), f"choices '{name}': values of one kind, found {', '.join(kinds)}"))
    return Choices(name, values, spec.get("assumed"), src.where(at, key=True))


def check_call(c, scope, obj, output, where, owner) -> list:
    if output:
        c.ctx.errors.append(Diagnostic(where, f"{owner}: choices '{obj.name}' have one result"))
    return []


def type_call(c, types, scope, obj, output, arg_types, owner):
    if len(arg_types) != 1 or arg_types[0].kind not in ("integer", "any") or arg_types[0].optional:
        return T.ANY, [f"choices '{obj.name}' take one whole number, found "
                       f"{', '.join(T.show(t) for t in arg_types) or 'none'}"]
    c.call_sites[(scope.qualified, obj.name)] = {"kind": CALL_KEY, "choices": obj}
    result = T.NOTHING
    for value in obj.values:
        result = T.join(result, T.of_value(value)) or T.ANY
    return result, []


def check_after_calls(c, objs) -> None:
    pass


def bind(site, compile_expression):
    obj = site["choices"]

    def call(item, n):
        if not 1 <= n <= len(obj.values):
            raise EvaluationError(f"choices '{obj.name}' have no value {n}", "data")
        record({"choices": obj.name, "n": int(n)})
        return obj.values[int(n) - 1]
    return call


def render(doc, obj) -> None:
    doc.h(2, f"Choices {obj.name}")
    doc.p(", ".join(str(v) for v in obj.values))


def diff_entries(obj) -> dict:
    return {obj.name: ", ".join(str(v) for v in obj.values)}


def targets(obj) -> list:
    return [("choice", f"{obj.name} value {n}", (obj.name, n)) for n in range(1, len(obj.values) + 1)]


def reached(call):
    return [(call["choices"], call["n"])]


def explain(call) -> list:
    return [f"choices {call['choices']}: value {call['n']}"]


def warning_codes(obj) -> set:
    return set()
