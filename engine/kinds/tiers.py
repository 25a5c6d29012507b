"""Marginal (progressive) tiers: each band [from, to) of an amount at its own rate, summed.
Called like a function, `annual_fee(total)`. Rows must ascend and be contiguous from the
first `from`; only the last may leave out `to`."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..errors import EvaluationError
from .calls import record
from .notes import diff_text, render_head


SECTION = "tiers"      # its key in a rule file, and the Version attribute holding them
WORD = "tiers"         # how a message names one
CALL_KEY = "tiers"     # the key naming it in a call recorded in the trace

_NOTES = {"description": {"type": "string", "title": "what it is, in a sentence"},
          "unit": {"type": "string", "title": "the rates' unit, e.g. ratio per year"},
          "source": {"type": "string", "title": "where in the source it is stated"},
          "assumed": {"type": "string", "title": "why it is assumed (no source states it)"}}
_ROWS = {"type": "array", "minItems": 1, "title": "its rows, ascending and contiguous",
         "items": {"type": "object", "required": ["from", "rate"], "additionalProperties": False,
                   "title": "a band {from, to, rate}: [from, to) at rate",
                   "properties": {"from": {"$ref": "#/$defs/decimal"}, "to": {"$ref": "#/$defs/decimal"},
                                  "rate": {"$ref": "#/$defs/decimal"}}}}
# The rule-file schema's parts for this construct (see kinds/schema.py).
SECTION_SCHEMA = {
    "rule_file": {"type": "object", "title": "marginal tiers",
                  "description": "Progressive schedules, each called like a function: name(amount).",
                  "additionalProperties": {"$ref": "#/$defs/tiers"}, "propertyNames": {"$ref": "#/$defs/name"}},
    "shared_file": {"type": "object", "title": "marginal tiers, dated",
                    "additionalProperties": {"$ref": "#/$defs/shared_tiers"}, "propertyNames": {"$ref": "#/$defs/name"}},
}
SCHEMA = {
    "tiers": {"type": "object", "required": ["rows"], "additionalProperties": False,
              "title": "marginal tiers {rows: [{from, to, rate}]}",
              "description": "A progressive schedule, called like a function: name(amount) is the sum of each band's "
                             "part of the amount at its rate.",
              "properties": {**_NOTES, "rows": _ROWS}},
    "shared_tiers": {"type": "object", "required": ["values"], "additionalProperties": False,
                     "title": "shared marginal tiers {values: [{from, published, rows}]}",
                     "properties": {**_NOTES, "values": {
                         "type": "array", "minItems": 1, "title": "its rows, each set from a date",
                         "items": {"type": "object", "required": ["from", "published", "rows"],
                                   "additionalProperties": False,
                                   "properties": {"from": {"$ref": "#/$defs/date"},
                                                  "published": {"$ref": "#/$defs/timestamp"},
                                                  "source": _NOTES["source"], "assumed": _NOTES["assumed"],
                                                  "note": {"type": "string"}, "rows": _ROWS}}}}},
}


@dataclass(frozen=True)
class TierRow:
    low: Decimal
    high: Decimal | None   # None: open-ended
    rate: Decimal


@dataclass(frozen=True)
class Tiers:
    name: str
    rows: tuple
    description: str | None
    unit: str | None
    origin: str | None
    assumed: str | None
    where: str


def read_tiers(name: str, spec: dict, at: tuple, src, errors: list) -> Tiers:
    rows = []
    for i, row in enumerate(spec["rows"]):
        low = Decimal(str(row["from"]))
        high = Decimal(str(row["to"])) if "to" in row else None
        rows.append(TierRow(low, high, Decimal(str(row["rate"]))))
        rat = at + ("rows", i)
        if high is not None and high <= low:
            errors.append(src.diag(rat + ("to",), f"tier row 'to: {high}' must be above its 'from: {low}'"))
        if i and rows[i - 1].high is None:
            errors.append(src.diag(rat, "only the last tier row may leave out 'to'"))
        elif i and low < rows[i - 1].high:
            errors.append(src.diag(rat + ("from",), f"tier rows must ascend: 'from: {low}' follows 'to: {rows[i - 1].high}'"))
        elif i and low != rows[i - 1].high:
            errors.append(src.diag(rat + ("from",), f"tier rows must be contiguous: 'from: {low}' leaves a gap after "
                                                    f"'to: {rows[i - 1].high}'"))
    return Tiers(name, tuple(rows), spec.get("description"), spec.get("unit"), spec.get("source"), spec.get("assumed"),
                 src.where(at, key=True))


read = read_tiers


def marginal(tiers: Tiers):
    """item, amount -> the progressive total (the rows it reached go to the trace)."""
    def call(item, amount):
        if amount is None or isinstance(amount, bool) or not isinstance(amount, (int, Decimal)):
            raise EvaluationError(f"tiers '{tiers.name}' need a number, found {amount!r}", "type")
        total, rows = Decimal(0), []
        for row in tiers.rows:
            top = amount if row.high is None else min(amount, row.high)
            portion = max(Decimal(0), top - row.low)
            part = portion * row.rate
            total += part
            rows.append({"from": row.low, "to": row.high, "rate": row.rate, "portion": portion, "amount": part})
        record({"tiers": tiers.name, "of": amount, "rows": rows})
        return total
    return call


def check_call(c, scope, tiers: Tiers, output: str, where: str, owner: str) -> list:
    """A call, once names are resolved: tiers have one result. Returns what the call reads
    besides its arguments (nothing)."""
    if output:
        from ..errors import Diagnostic
        c.ctx.errors.append(Diagnostic(where, f"{owner}: tiers '{tiers.name}' have one result; call {tiers.name}(...)"))
    return []


def check_after_calls(c, tiers) -> None:
    """Nothing to check once every call is typed: tiers are checked when read."""


def type_call(c, types, scope, tiers: Tiers, output, arg_types, owner) -> tuple:
    """(type of the call, problems at the call): one number in, the progressive total out."""
    from .. import types as T
    if len(arg_types) != 1:
        return T.ANY, [f"tiers '{tiers.name}' take one amount, found {len(arg_types)} arguments"]
    t = arg_types[0]
    if t.kind != "any" and (not T.is_number(t) or t.optional):
        return T.ANY, [f"tiers '{tiers.name}' need a number" + (", and the amount can be null; test it first"
                                                                 if T.is_number(t) else f", not {T.show(t)}")]
    c.call_sites[(scope.qualified, tiers.name)] = {"kind": "tiers", "tiers": tiers}
    return T.DECIMAL, []


def bind(site: dict, compile_expression=None):
    return marginal(site["tiers"])


# -- what a reviewer reads ----------------------------------------------------------------------------

def render(doc, t: Tiers) -> None:
    from ..values import show
    render_head(doc, f"Tiers {t.name}", t)
    doc.p(f"Marginal: each band of the amount at its own rate, summed. Called as {t.name}(amount).")
    from ..values import with_unit
    doc.table(["from", "to (not included)", "rate"],
              [[show(r.low, "readable"), show(r.high, "readable") if r.high is not None else "and above",
                with_unit(r.rate, t.unit)] for r in t.rows])


def diff_entries(t: Tiers) -> dict:
    from ..values import show
    from ..values import with_unit
    text = "; ".join(f"[{show(r.low)}, {show(r.high) if r.high is not None else '∞'}) {with_unit(r.rate, t.unit)}"
                     for r in t.rows)
    notes = diff_text(t)
    return {t.name: text + (f" [{notes}]" if notes else "")}


def targets(t: Tiers) -> list:
    from ..values import show
    return [("tier row", f"{t.name} row {n} (from {show(r.low)})", (t.name, n)) for n, r in enumerate(t.rows, 1)]


def reached(call: dict):
    """The coverage keys a call reached: the rows that took part of the amount."""
    return [(call["tiers"], n) for n, row in enumerate(call["rows"], 1) if row["portion"] > 0]


def warning_codes(t: Tiers) -> set:
    return set()


def explain(call: dict) -> list[str]:
    from ..values import show
    lines = [f"tiers {call['tiers']} of {show(call['of'], 'readable')}:"]
    for row in call["rows"]:
        band = f"{show(row['from'], 'readable')} to {show(row['to'], 'readable') if row['to'] is not None else 'and above'}"
        lines.append(f"    {band} at {show(row['rate'], 'readable')}: {show(row['portion'], 'readable')} x "
                     f"{show(row['rate'], 'readable')} = {show(row['amount'], 'readable')}")
    return lines


def explain_in(call: dict, _tiers=None) -> list[str]:
    """explain, the bands that take nothing of the amount folded into one line."""
    lines = explain(call)
    taken = [line for line, row in zip(lines[1:], call["rows"]) if row["portion"] > 0]
    idle = len(call["rows"]) - len(taken)
    return [lines[0]] + taken + ([f"    ({idle} band{'s' if idle > 1 else ''} above take nothing)"] if idle else [])
