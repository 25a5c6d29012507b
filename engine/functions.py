"""The functions an expression may call: one table, one entry a function.

Everything here is deterministic and generic (no policy knows its name here). Adding a
function is one entry in FUNCTIONS; the name checker and the evaluator both read it.
"""
from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal

from .errors import EvaluationError


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
        raise EvaluationError("min() of nothing: the list is empty")
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


# name -> (callable, a one-line description shown by error messages and docs)
FUNCTIONS = {
    "sum": (_sum, "sum(list) or sum(a, b, ...): the total; 0 for an empty list"),
    "min": (_min, "min(list) or min(a, b, ...): the smallest"),
    "max": (_max, "max(list) or max(a, b, ...): the largest"),
    "count": (lambda items: len(items), "count(list): how many items"),
    "count_true": (lambda items: sum(1 for v in items if v), "count_true(list): how many items are true"),
    "any": (lambda items: any(items), "any(list): true if any item is true"),
    "all": (lambda items: all(items), "all(list): true if every item is true"),
    "abs": (lambda v: abs(v), "abs(x): the absolute value"),
    "days_in_month": (_days_in_month, "days_in_month('YYYY-MM'): 28 to 31"),
    "end_of_month": (_end_of_month, "end_of_month('YYYY-MM'): the month's last date"),
}

CALLABLES = {name: fn for name, (fn, _doc) in FUNCTIONS.items()}

__all__ = ["FUNCTIONS", "CALLABLES", "Decimal"]
