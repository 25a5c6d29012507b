"""What generated decision code (engine.compile.generate) calls at run time: the checked
operators it cannot write as plain Python, the checks of facts values that the JSON
Schema does not make (engine.load.jsonfacts.clean's limits), and `Bail`.

Generated code decides only the ordinary case. Anything else (a value it did not expect,
a check that fails, an error of any kind) raises, and the interpreter decides that line
from the start, so every message and explanation is the interpreter's own.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal

from ..check import schema as schemacheck
from ..load.jsonfacts import MAX_DEPTH, MAX_DIGITS, MAX_INT_DIGITS, _PLAIN, decimal_problem
from ..values import show

INT_BOUND = 10 ** MAX_DIGITS


class Bail(Exception):
    """The generated code does not decide this one: the interpreter does."""


BAIL = Bail()


def bail(*_args):
    raise BAIL


def str_ok(value: str) -> bool:
    """A long or non-ASCII string as jsonfacts.clean accepts it unchanged."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not (_PLAIN.match(value) and decimal_problem(Decimal(value)))


def dec_ok(value: Decimal) -> bool:
    return decimal_problem(value) is None


def plain(value, depth: int) -> int:
    """Data the schema does not look into: as jsonfacts.clean leaves it unchanged, or Bail.
    Returns how many object keys it holds."""
    kind = type(value)
    if kind is str:
        if (len(value) > MAX_DIGITS or not value.isascii()) and not str_ok(value):
            raise BAIL
        return 0
    if kind is int:
        if not -INT_BOUND < value < INT_BOUND:
            raise BAIL
        return 0
    if kind is bool or value is None:
        return 0
    if depth > MAX_DEPTH:
        raise BAIL
    if kind is dict:
        keys = len(value)
        for k, v in value.items():
            if type(k) is not str:
                raise BAIL
            keys += plain(v, depth + 1)
        return keys
    if kind is list:
        return sum(plain(v, depth + 1) for v in value)
    if kind is Decimal:
        if decimal_problem(value) is not None:
            raise BAIL
        return 0
    raise BAIL


def remember(memo: dict, value, raw, any_key: bool = False):
    """value, read from raw (text, or any_key: a date, a month, a number): kept for the next
    time (a few thousand at most); a list is kept as a tuple and given out as a copy."""
    if (any_key or type(raw) is str) and len(memo) < 4096:
        memo[raw] = tuple(value) if type(value) is list else value
    return value


def enum_ok(value, choices) -> bool:
    for x in choices:
        if (isinstance(value, bool) or isinstance(x, bool)) and type(value) is not type(x):
            continue
        if value == x:
            return True
    return False


def number(value) -> bool:
    return type(value) in (int, Decimal)


# -- the facts of a batch line, parsed for the generated reader ----------------------------------

def _float(text):
    if _PLAIN.match(text):
        return Decimal(text)
    raise BAIL


def _int(text):
    if len(text) <= MAX_INT_DIGITS:
        return int(text)
    raise BAIL


_DECODER = json.JSONDecoder(parse_float=_float, parse_int=_int, parse_constant=bail)
_SPACE_COLON = re.compile(r'"[ \t\n\r]+:').search


def parse_line(text: str):
    """(facts as plain data, the most keys the text can hold) of a facts line, or Bail for
    anything the interpreter should read and explain: numbers out of plain notation, a
    byte-order mark, bad JSON. Duplicate keys are found by count: every key of the text is
    a '"' then ':' (a key with space before its ':' is left to the interpreter), so when
    the objects read hold as many keys as the text has '":', no key was there twice."""
    if text[:1] == "\ufeff" or _SPACE_COLON(text):
        raise BAIL
    try:
        return _DECODER.decode(text), text.count('":')
    except RecursionError:
        raise BAIL from None


# -- the message of a condition, as the interpreter writes it ------------------------------------

def as_of(value):
    """as_of_default's value as the date it names (engine.run.ruleset._as_of_from)."""
    from datetime import date
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def field(value, spec: str) -> str:
    if spec and isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        return format(value, spec)
    return show(value, "plain")


def where(path: tuple, cond_path: str | None, nested: bool) -> str:
    base = schemacheck.json_path(path) if path else ""
    if not cond_path:
        return base
    return f"{base}.{cond_path}" if nested and base else cond_path

