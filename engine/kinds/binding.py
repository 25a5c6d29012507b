"""A decision table bound to one call site: its tests typed, its output expressions compiled
in the caller's scope; the callable a decision runs (engine.kinds.table types and checks
it, this runs it)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .. import types as T
from ..errors import EvaluationError
from ..values import show
from .calls import record, warn


@dataclass
class Binding:
    """A table bound to a version and a call site: bounds resolved, values typed, output
    expressions compiled (by the compiler, in the caller's scope)."""

    table: object              # the kinds.table.DecisionTable
    rows: list                 # [(tests, outputs)]: typed Tests, and per output a value or a closure item -> value
    default: tuple             # per output: a value or a closure
    output: int | None         # the output column returned (None: the only one)
    column_types: tuple

    def __call__(self, item, *args):
        t, out = self.table, self.output or 0
        matched = []
        for number, (tests, outputs) in enumerate(self.rows, 1):
            for test, value in zip(tests, args):
                if not test.matches(value):
                    break
            else:
                matched.append(number)
                if t.hit != "collect":
                    break
        record({"table": t.name, "rows": matched} | ({"default": True} if not matched and t.hit != "collect" else {}))
        if t.hit == "collect":
            if not matched and t.has_default and t.aggregate in ("min", "max"):
                return self._default(item, args, out)
            values = [_value(self.rows[n - 1][1][out], item) for n in matched]
            return _aggregate(t, values)
        if not matched:
            if not t.has_default:   # the checks make sure it cannot happen
                raise EvaluationError(f"table '{t.name}' has no row for ({', '.join(T.shown_value(a) for a in args)})",
                                      "data")
            return self._default(item, args, out)
        return _value(self.rows[matched[0] - 1][1][out], item)

    def _default(self, item, args, out):
        t = self.table
        value = _value(self.default[out], item)
        if t.warn_default:
            warn("NO_TABLE_ROW", f"table '{t.name}' has no row for ({', '.join(show(a) for a in args)}); "
                                 f"{show(value)} is used")
        return value


def _value(cell, item):
    return cell(item) if callable(cell) else cell


def _aggregate(t, values):
    if t.aggregate == "count":
        return len(values)
    if t.aggregate == "list":
        return tuple(values)
    if t.aggregate == "sum":
        total = Decimal(0)
        for v in values:
            total += v
        return total
    if not values:
        if t.has_default:
            return t.default[0].value
        raise EvaluationError(f"table '{t.name}': {t.aggregate} of no row", "data")
    return min(values) if t.aggregate == "min" else max(values)


def literal(value):
    """An output value as it is used: numbers as Decimal, lists as tuples."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, (list, tuple)):
        return tuple(literal(v) for v in value)
    return value


def bind(site: dict, compile_expression) -> Binding:
    """The runtime callable of a call site: compile_expression(Expression, refs) -> item -> value
    for the output expressions (they read the caller's item)."""
    table, out = site["table"], site["output"]
    exprs = site["exprs"]

    def cell(slot, output):
        if output.expression is not None:
            expression, refs = exprs[slot]
            return compile_expression(expression, refs)
        return literal(output.value)

    rows = [(tests, [cell((i, j), o) for j, o in enumerate(outputs)]) for i, (tests, outputs) in enumerate(site["rows"])]
    default = tuple(cell(("default", j), o) for j, o in enumerate(table.default))
    return Binding(table, rows, default, out, site["columns"])
