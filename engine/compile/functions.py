"""The functions an expression may call: one table, one entry a function.

Everything here is deterministic and generic (no policy knows its name here). Adding a
function is one entry in FUNCTIONS; the name checker and the evaluator both read it.
"""
from __future__ import annotations

import calendar
from datetime import date
from decimal import ROUND_DOWN, Decimal, localcontext

from ..errors import EvaluationError, MissingKey


def _month(value) -> tuple[int, int]:
    try:
        year, month = str(value).split("-")
        year, month = int(year), int(month)
        if not 1 <= month <= 12 or not 1 <= year <= 9999:
            raise ValueError
        return year, month
    except ValueError:
        raise EvaluationError(f"expected a month 'YYYY-MM', found {value!r}") from None


def _items(args):
    """sum/min/max accept a list, or several values."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        return list(args[0])
    return list(args)


def _sum(*args):
    total = Decimal(0)
    for v in _items(args):
        total += v
    return total


def _min(*args):
    items = _items(args)
    if not items:
        raise EvaluationError("min() of nothing: the list is empty", "data")
    return min(items)


def _max(*args):
    items = _items(args)
    if not items:
        raise EvaluationError("max() of nothing: the list is empty")
    return max(items)


def _days_in_month(month) -> int:
    return calendar.monthrange(*_month(month))[1]


def _end_of_month(month) -> date:
    year, mon = _month(month)
    return date(year, mon, calendar.monthrange(year, mon)[1])


_NO_DEFAULT = object()


def _get(mapping, key, default=_NO_DEFAULT):
    if not isinstance(mapping, dict):
        raise EvaluationError(f"get() needs a map, found {type(mapping).__name__}", "type")
    if key not in mapping:
        if default is not _NO_DEFAULT:
            return default
        raise MissingKey(f"no entry for {key!r} in the map (it has {', '.join(sorted(map(str, mapping))) or 'none'})")
    return mapping[key]


def _lookup(b):
    """b for `in`: a set when its items can be hashed (the same answers, faster)."""
    try:
        return set(b)
    except TypeError:
        return b


def _overlap(a, b):
    """The items of a that are also in b, in a's order."""
    b = _lookup(b)
    return [x for x in a if x in b]


def _largest_multiple_below(numerator, denominator, quantum, cap=None):
    """The largest k x quantum (k = 0, 1, 2, ...) with k x quantum x denominator < numerator,
    and at most cap when one is given; 0 if none. Exact at any size: k is found in whole
    numbers from the decimals' own digits (no division or product is rounded on the way),
    and only the answer is rounded to the precision, down, so it never passes the bound.
    With a cap, a denominator of 0 is allowed (every multiple then fits while numerator > 0)."""
    numerator, denominator, quantum = (Decimal(x) for x in (numerator, denominator, quantum))
    if quantum <= 0 or denominator < 0 or (denominator == 0 and cap is None):
        raise EvaluationError("largest_multiple_below() needs a positive quantum, a denominator above 0 (or 0 "
                              "with a cap)", "data")
    top = None if cap is None else _floor_ratio(Decimal(cap), quantum)
    if numerator <= 0 or (top is not None and top <= 0):
        return Decimal(0) * quantum
    if denominator == 0:
        return _times(top, quantum)
    k = _below_ratio(numerator, quantum, denominator)
    return _times(k if top is None else min(k, top), quantum)


def _parts(value: Decimal) -> tuple[int, int]:
    """(coefficient, exponent) of a finite decimal: value = coefficient x 10 ** exponent, exactly."""
    sign, digits, exponent = value.as_tuple()
    coefficient = int("".join(map(str, digits)) or "0")
    return (-coefficient if sign else coefficient), exponent


def _floor_ratio(a: Decimal, b: Decimal) -> int:
    """floor(a / b), exactly (b > 0)."""
    (x, ex), (y, ey) = _parts(a), _parts(b)
    low = min(ex, ey)
    return (x * 10 ** (ex - low)) // (y * 10 ** (ey - low))


def _below_ratio(n: Decimal, q: Decimal, d: Decimal) -> int:
    """The largest whole k >= 0 with k x q x d < n, exactly (n > 0, q > 0, d > 0)."""
    (x, ex), (a, ea), (b, eb) = _parts(n), _parts(q), _parts(d)
    low = min(ex, ea + eb)
    big_n, step = x * 10 ** (ex - low), a * b * 10 ** (ea + eb - low)
    return max((big_n - 1) // step, 0)


def _times(k: int, quantum: Decimal) -> Decimal:
    """k x quantum, rounded down where it has more digits than the precision keeps."""
    with localcontext() as ctx:
        ctx.rounding = ROUND_DOWN
        return Decimal(k) * quantum


def _first(items, default):
    for item in items:
        return item
    return default


def _without(a, b):
    """The items of a that are not in b, in a's order."""
    b = _lookup(b)
    return [x for x in a if x not in b]


def _days_of(month) -> list:
    year, mon = _month(month)
    return [date(year, mon, d) for d in range(1, calendar.monthrange(year, mon)[1] + 1)]


def _month_of(day) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _date_ranges(days) -> str:
    """'2024-07-04 to 2024-07-06, 2024-07-09' for a list of dates (sorted first)."""
    parts, start, prev = [], None, None
    for d in sorted(days) + [None]:
        if start is not None and (d is None or (d - prev).days != 1):
            parts.append(str(start) if start == prev else f"{start} to {prev}")
            start = None
        if d is not None and start is None:
            start = d
        prev = d
    return ", ".join(parts)


# name -> (callable, typed signatures, a one-line description shown by messages and docs).
# A signature is "(argument types) -> result type"; '...' repeats the argument before it.
# Type variables: T and V are any type, N a number (integer or decimal, kept), O a value
# that can be ordered (a number, text, a date, a month); E and K are values matched by
# equality, so a later argument's known values must be among the first's (a misspelt
# "brokr" never matches a tag). `positive decimal` is a number that must be above 0 where
# it is known when the rules load (a literal or a parameter). The first signature whose
# number of arguments fits is the one checked.
FUNCTIONS = {
    "sum": (_sum, ("(list of decimal) -> decimal", "(decimal, decimal, ...) -> decimal"),
            "sum(list) or sum(a, b, ...): the total; 0 for an empty list"),
    "min": (_min, ("(list of O) -> O", "(O, O, ...) -> O"), "min(list) or min(a, b, ...): the smallest"),
    "max": (_max, ("(list of O) -> O", "(O, O, ...) -> O"), "max(list) or max(a, b, ...): the largest"),
    "count": (lambda items: len(items), ("(list of T) -> integer",), "count(list): how many items"),
    "count_true": (lambda items: sum(1 for v in items if v), ("(list of boolean) -> integer",),
                   "count_true(list): how many items are true"),
    "any": (lambda items: any(items), ("(list of boolean) -> boolean",), "any(list): true if any item is true"),
    "all": (lambda items: all(items), ("(list of boolean) -> boolean",), "all(list): true if every item is true"),
    "abs": (lambda v: abs(v), ("(N) -> N",), "abs(x): the absolute value"),
    "get": (_get, ("(map of K to V, K) -> V", "(map of K to V, K, V) -> V"),
            "get(map, key) or get(map, key, default): the value at key; a missing key is bad facts, or the default"),
    "first": (_first, ("(list of T, T) -> T",),
              "first(list, default): the first item (the list is often filtered: first(a.b where c, 0)), or the default"),
    "without": (_without, ("(list of E, list of E) -> list of E",),
                "without(list, list): the items of the first that are not in the second"),
    "days_of": (_days_of, ("(month) -> list of date",), "days_of('YYYY-MM'): every date of the month"),
    "month_of": (_month_of, ("(date) -> month",), "month_of(date): its month, 'YYYY-MM'"),
    "date_ranges": (_date_ranges, ("(list of date) -> text",),
                    "date_ranges(dates): '2024-07-04 to 2024-07-06, 2024-07-09'"),
    "has": (lambda mapping, key: key in mapping, ("(map of K to V, K) -> boolean",),
            "has(map, key): true if the map has the key"),
    "contains": (lambda items, x: x in items, ("(list of E, E) -> boolean",),
                 "contains(list, x): true if x is in the list"),
    "overlap": (_overlap, ("(list of E, list of E) -> list of E",),
                "overlap(list, list): the items of the first that are in the second"),
    "largest_multiple_below": (_largest_multiple_below, ("(decimal, positive decimal, positive decimal) -> decimal",
                                                         "(decimal, decimal, positive decimal, decimal) -> decimal"),
                               "largest_multiple_below(n, d, q) or (n, d, q, cap): the largest multiple m of q "
                               "with m x d < n (and m <= cap); 0 if none"),
    "days_in_month": (_days_in_month, ("(month) -> integer",), "days_in_month('YYYY-MM'): 28 to 31"),
    "end_of_month": (_end_of_month, ("(month) -> date",), "end_of_month('YYYY-MM'): the month's last date"),
}

CALLABLES = {name: fn for name, (fn, _signatures, _doc) in FUNCTIONS.items()}


def markdown_table() -> str:
    """The functions as the README lists them (a test holds the README to this)."""
    rows = ["| types | what it does |", "|---|---|"]
    for name, (_fn, signatures, doc) in sorted(FUNCTIONS.items()):
        shown = "<br>".join(f"`{name}{s}`" for s in signatures)
        rows.append(f"| {shown} | {doc} |")
    return "\n".join(rows) + "\n"
SIGNATURES = {name: signatures for name, (_fn, signatures, _doc) in FUNCTIONS.items()}

__all__ = ["FUNCTIONS", "CALLABLES", "SIGNATURES", "Decimal"]
