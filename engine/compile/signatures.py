"""Typed signatures of the functions table (engine.compile.functions): how "(list of O) ->
O" is read, how an argument's type is matched against it (binding type variables), and how
a message shows it."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .. import types as T


VARIABLES = {"T": "any value", "K": "any value", "V": "any value", "E": "any value", "N": "a number",
             "O": "a number, text, a date or a month"}
MATCHED = ("E", "K")   # compared by equality: a later argument's known values must be among the first's


def usage(name: str, sig) -> str:
    """A signature as a message shows it, its type variables said in words:
    'min(O, O, ...), O a number, text, a date or a month, the same for each'."""
    used = [v for v in VARIABLES if re.search(rf"\b{v}\b", sig.text)]
    words = "; ".join(f"{v} {VARIABLES[v]}" + (", the same for each" if sig.text.count(v) > 1 else "") for v in used)
    return f"{name}{sig.text}" + (f", {words}" if words else "")


@dataclass(frozen=True)
class Signature:
    text: str
    params: tuple      # patterns: a Type, or a variable letter, or ('list', pattern) / ('map', k, v)
    variadic: bool
    result: object

    def fits(self, n: int) -> bool:
        return n == len(self.params) or (self.variadic and n >= len(self.params))

    def param(self, i: int):
        return self.params[min(i, len(self.params) - 1)]

    def arity_text(self) -> str:
        n = len(self.params)
        return f"{n} or more arguments" if self.variadic else f"{n} argument{'s' if n != 1 else ''}"


_SIG_CACHE: dict = {}


def signature(text: str) -> Signature:
    if text not in _SIG_CACHE:
        args, result = text.split("->")
        parts = [p.strip() for p in args.strip()[1:-1].split(",")]
        variadic = parts[-1] == "..."
        if variadic:
            parts = parts[:-1]
        _SIG_CACHE[text] = Signature(args.strip(), tuple(_pattern(p) for p in parts), variadic,
                                      _pattern(result.strip()))
    return _SIG_CACHE[text]


def _pattern(text: str):
    if text.startswith("positive "):
        return ("positive", _pattern(text[len("positive "):]))
    if text in VARIABLES:
        return text
    if text.startswith("list of "):
        return ("list", _pattern(text[8:]))
    if text.startswith("map of "):
        k, v = text[7:].split(" to ", 1)
        return ("map", _pattern(k), _pattern(v))
    return T.parse(text)


def _wanted(pattern) -> str:
    if isinstance(pattern, str):
        return VARIABLES[pattern]
    if isinstance(pattern, tuple):
        return "a list" if pattern[0] == "list" else "a map"
    return {"decimal": "a number", "integer": "a whole number", "boolean": "true or false", "date": "a date",
            "month": "a month"}.get(pattern.kind, T.show(pattern))


def match(pattern, got: T.Type, bindings: dict):
    """None if got fits pattern (binding its variables), else (what was wanted, 'kind'|'null'|'never')."""
    if got.kind == "any":
        return None
    if isinstance(pattern, tuple) and pattern[0] == "positive":
        return match(pattern[1], got, bindings)
    if isinstance(pattern, str):
        if got.kind == "null" or got.optional:
            return (VARIABLES[pattern], "null")
        if pattern == "N" and not T.is_number(got) or pattern == "O" and got.kind not in T.ORDERED:
            return (VARIABLES[pattern], "kind")
        if got.kind in ("list", "map") and pattern in ("N", "O"):
            return (VARIABLES[pattern], "kind")
        bound = bindings.get(pattern)
        joined = got if bound is None else T.join(bound, got)
        if joined is None:
            return (f"{T.show(bound)} like the other arguments", "kind")
        unmatched = never(bound, got) if pattern in MATCHED and bound is not None else None
        if unmatched:
            return unmatched
        bindings[pattern] = joined
        return None
    if isinstance(pattern, tuple):
        if got.kind != pattern[0]:
            return (_wanted(pattern) + (f" of {_wanted(pattern[1])}" if pattern[0] == "list" else ""), "kind")
        if got.optional:
            return (_wanted(pattern), "null")
        for sub, arg in zip(pattern[1:], got.args):
            if arg.kind == "nothing":
                continue
            if arg.optional and not (isinstance(sub, T.Type) and sub.optional):
                return (f"{_wanted(pattern)} whose items cannot be null", "kind")
            problem = match(sub, arg, bindings)
            if problem and problem[1] == "never":
                return problem
            if problem:
                return (f"{_wanted(pattern)} of {problem[0]}", "kind")
        return None
    if got.kind == "null" or got.optional and not pattern.optional:
        return (_wanted(pattern), "null")
    return None if T.accepts(pattern, got) else (_wanted(pattern), "kind")


def substitute(pattern, bindings) -> T.Type:
    if isinstance(pattern, str):
        t = bindings.get(pattern, T.ANY)
        return T.ANY if t.kind == "nothing" else t
    if isinstance(pattern, tuple):
        parts = [substitute(p, bindings) for p in pattern[1:]]
        return T.list_of(parts[0]) if pattern[0] == "list" else T.map_of(*parts)
    return pattern


def never(first: T.Type, second: T.Type):
    """Two text values matched by equality whose known values do not nest (neither set is
    within the other: a misspelt value on one side): (the values that can never match, 'never',
    the other side's type), naming the side with fewer such values; else None."""
    if first.kind != "text" or second.kind != "text" or first.values is None or second.values is None:
        return None
    a, b = second.values - first.values, first.values - second.values
    if not a or not b:
        return None
    return (sorted(a), "never", first, "second") if len(a) <= len(b) else (sorted(b), "never", second, "first")
