"""Evaluate a compiled Version on checked facts: formulas in dependency order, then
conditions, then the result. Every formula's value is traced with what it read."""
from __future__ import annotations

import decimal
import os
import time
from decimal import Decimal

from ..check import schema as schemacheck
from ..errors import Diagnostic, EvaluationError, FactsError, MissingKey
from ..compile.operators import evaluation_error
from .items import Item
from ..compile.model import Formula, Ref, ResultField, Version
from ..kinds import CALLABLE_KINDS, kind_of_call
from ..kinds.calls import Recording
from ..values import json_scalar, show

# Intermediates keep 60 significant digits: sums and products of facts (at most 40
# digits each) are exact, a division is the only rounding before the output. Rounding
# to the rule's quantum happens only where the rule data says, at the output.
CONTEXT = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN, Emax=999_999, Emin=-999_999,
                          traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])


def _read(ref: Ref, item: Item, params):
    if ref.kind == "param":
        return params[ref.target].value
    if ref.kind == "child":
        return [c.values[ref.target] for c in item.children[ref.child.rsplit(".", 1)[-1]]]
    return item.up(ref.up).values[ref.target]


def _names(refs, item, params) -> dict:
    return {ref.name: _read(ref, item, params) for ref in refs}


def readers(refs, params) -> tuple:
    """(name, item -> value) for each name an expression reads: prepared once per version,
    so that a decision does no dispatch on the kind of reference."""
    out = []
    for ref in refs:
        name, target = ref.name, ref.target
        if ref.kind == "param":
            out.append((name, (lambda value: lambda item: value)(params[target].value)))
        elif ref.kind == "child" and len(ref.via) == 1 and ref.filter is None:   # the common case
            out.append((name, (lambda c, t: lambda item: [x.values[t] for x in item.children[c]])(ref.via[0], target)))
        elif ref.kind == "child":
            keep = None
            if ref.filter is not None:   # the condition, read in the items' own scope
                condition, condition_refs = ref.filter
                keep = condition.bind(dict(readers(condition_refs, params)))
            out.append((name, _deep(ref.via, target, keep)))
        elif ref.up == 0:
            out.append((name, (lambda t: lambda item: item.values[t])(target)))
        elif ref.up == 1:
            out.append((name, (lambda t: lambda item: item.parent.values[t])(target)))
        else:
            out.append((name, (lambda t, k: lambda item: item.up(k).values[t])(target, ref.up)))
    return tuple(out)


def _deep(via, target, keep):
    """item -> the field of the items found by following the child collections `via`, those
    for which keep(item) holds when there is a filter."""
    def get(item):
        items = [item]
        for name in via:
            items = [child for i in items for child in i.children[name]]
        return [x.values[target] for x in items if keep is None or keep(x)]
    return get


def prepare(plan, conditions, params, call_sites=None):
    """Per formula and condition, once per version: its readers (name -> item -> value, for
    the trace) and its parts bound to them (item -> value, for evaluation), with the tables
    and tiers it calls bound for its scope (call_sites: (scope, name) -> how it is called)."""
    def compile_expression(expression, refs):
        return expression.bind(dict(readers(refs, params)))

    callables: dict = {}
    for (scope, name), site in (call_sites or {}).items():
        callables.setdefault(scope, {})[name] = CALLABLE_KINDS[site["kind"]].bind(site, compile_expression)
    readers_of, bound = {}, {}
    for f in plan:
        names_of = readers(f.refs, params)
        readers_of[id(f)] = names_of
        getters = dict(names_of)
        bound[id(f)] = {label: expr.bind(getters, callables.get(f.scope)) for label, expr in f.parts}
    for c in conditions:
        if c.when is not None:
            names_of = readers(c.refs, params)
            readers_of[id(c)] = names_of
            when = c.when.bind(dict(names_of), callables.get(c.scope))
            fields = tuple((text, e.bind(dict(readers(refs, params)), callables.get(c.scope)), spec)
                           for text, e, refs, spec in c.message_fields)
            bound[id(c)] = (when, fields)
    return readers_of, bound


def _fail(f: Formula, item: Item, exc: Exception, names_of=()):
    if isinstance(exc, MissingKey):
        return FactsError(Diagnostic("", exc.diagnostics[0].message, schemacheck.json_path(item.path) if item.path else ""))
    if not isinstance(exc, EvaluationError):   # the closure's own error: said as the reference says it
        exc = evaluation_error(exc, {name: _safe(get, item) for name, get in names_of})
    where = f" for {item.label}" if item.label else ""
    message = exc.diagnostics[0].message
    if message == "division by zero":   # say which value was 0
        zero = [name for name, get in names_of if _is_zero(_safe(get, item))]
        if zero:
            message += f" ({', '.join(zero)} {'is' if len(zero) == 1 else 'are'} 0)"
    return EvaluationError(Diagnostic(f.where, f"formula '{f.name}'{where}: {message}"), exc.reason)


def _is_zero(value) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool) and value == 0


def _safe(get, item):
    try:
        return get(item)
    except Exception:   # pragma: no cover - only to describe a failure
        return None


def _run_formula(f: Formula, item: Item, parts: dict, names_of, trace, warnings, reached):
    """Evaluate f for one item. The trace keeps (formula, item, value, details); its
    entries, with the inputs read, are written only when someone reads the trace. The
    tables and tiers it calls say which rows they used (details, and `reached`)."""
    expr = parts["expr"]
    if not f.parts[0][1].calls:   # the common case
        try:
            value = expr(item)
        except Exception as exc:
            raise _fail(f, item, exc, names_of) from None
        item.values[f.name] = value
        trace.append((f, item, value, None, names_of))
        return
    try:
        with Recording() as rec:
            value = expr(item)
    except Exception as exc:
        raise _fail(f, item, exc, names_of) from None
    _note(rec, item, warnings, reached)
    item.values[f.name] = value
    trace.append((f, item, value, {"calls": rec.calls}, names_of))


def _note(rec, item, warnings, reached):
    """What the calls of one evaluation used (table and tier rows), and the warnings they gave."""
    for call in rec.calls:
        reached.update(kind_of_call(call).reached(call))
    for code, message in rec.warnings:
        w = {"code": code, "message": message}
        if item.path:
            w["path"] = schemacheck.json_path(item.path)
        elif item.label:
            w["path"] = item.label
        if w not in warnings:
            warnings.append(w)


def trace_entries(raw, order=None) -> list[dict]:
    """The trace as data: every named value with the inputs it read (and tier rows etc.), in
    dependency order (order: id(formula) -> its place in the plan), whatever order the
    formulas ran in."""
    if order:
        raw = sorted(raw, key=lambda entry: order.get(id(entry[0]), 0))   # stable: items keep their order
    out = []
    for f, item, value, details, names_of in raw:
        names = {name: get(item) for name, get in names_of}
        entry = {"name": f.name}
        if item.label:
            entry["item"] = item.label
        entry["value"] = value
        entry["expr"] = f.text
        if details is not None:
            entry.update(details)
        entry["inputs"] = names
        out.append(entry)
    return out


DEFAULT_TIME_LIMIT = Decimal(10)   # seconds a decision may take (POLICY_TIME_LIMIT overrides)


class Deadline:
    """When a decision must be done by: checked between its stages, between formulas, and
    every few hundred items, so that no facts or rules make it run on (the steps between
    checks are bounded: no loops but over the facts, exponents and precision capped)."""

    def __init__(self, seconds=None):
        key = seconds if seconds is not None else ("env", _env_limit())
        known = _LIMITS.get(key) if isinstance(key, (str, tuple)) else None
        if known is None:
            limit = _seconds(key[1]) if seconds is None else seconds
            limit = Decimal(str(limit)) if not isinstance(limit, Decimal) else limit
            known = (limit, int(limit * 1_000_000_000))
            if isinstance(key, (str, tuple)) and len(_LIMITS) < 64:
                _LIMITS[key] = known
        self.limit = known[0]
        self.at_ns = time.monotonic_ns() + known[1]

    def check(self, where: str = "", what: str = "") -> None:
        if time.monotonic_ns() > self.at_ns:
            raise EvaluationError(Diagnostic(where, f"the decision took longer than the limit of {self.limit} s"
                                                    + (f" ({what})" if what else "")), "time_limit")


def _env_limit():
    """POLICY_TIME_LIMIT as set now (read from os.environ's own table on POSIX: 20 ns, not 600)."""
    data = getattr(os.environ, "_data", None)
    if os.name == "posix" and isinstance(data, dict):
        raw = data.get(b"POLICY_TIME_LIMIT")
        return raw.decode("utf-8", "surrogateescape") if raw is not None else None
    return os.environ.get("POLICY_TIME_LIMIT")   # pragma: no cover - elsewhere


_LIMITS: dict = {}   # POLICY_TIME_LIMIT's text (or a limit given as text) -> (seconds, nanoseconds)


def _seconds(text) -> Decimal:
    """POLICY_TIME_LIMIT: seconds, a plain decimal such as 2 or 0.5 (anything else: the default)."""
    try:
        value = Decimal(text) if text is not None else DEFAULT_TIME_LIMIT
        return value if value.is_finite() and value >= 0 else DEFAULT_TIME_LIMIT
    except ArithmeticError:
        return DEFAULT_TIME_LIMIT


def run(version: Version, root: Item, items_by_scope: dict, warnings: list, deadline: "Deadline | None" = None):
    """-> (result, trace, warnings, indexes of the conditions raised). Raises FactsError when a
    condition of severity facts holds (checked before the formulas that read the same
    inputs: see engine.schedule), EvaluationError when the rules cannot decide, also past
    the deadline."""
    params = version.parameters
    trace: list = []   # (formula, item, value, details, readers): see trace_entries
    deadline = deadline or Deadline()
    violations, bad_facts, fired = [], [], []
    computed, reached = set(), set()   # formulas done; (table or tiers, row) used
    with decimal.localcontext(CONTEXT):
        for step, what in version.schedule:
            if step == "formula":
                if bad_facts:   # the facts are bad: only the remaining facts checks still run
                    continue
                f = what
                names_of, parts = version.readers[id(f)], version.bound[id(f)]
                for count, item in enumerate(items_by_scope.get(f.scope, ()), 1):
                    _run_formula(f, item, parts, names_of, trace, warnings, reached)
                    if not count % 256:
                        deadline.check(f.where, f"at formula '{f.name}'")
                deadline.check(f.where, f"at formula '{f.name}'")
                computed.add((f.scope, f.name))
            elif version.condition_needs[what] <= computed:
                _check(version, what, items_by_scope, params, deadline, violations, bad_facts, warnings, fired,
                       reached)
        if bad_facts:
            raise FactsError(bad_facts)
        for index, cond in enumerate(version.conditions):
            if cond.severity != "facts":
                _check(version, index, items_by_scope, params, deadline, violations, bad_facts, warnings, fired,
                       reached)
        result = _result(version.result, root, params, violations)
    return result, trace, warnings, tuple(dict.fromkeys(fired)), reached


def _check(version, index, items_by_scope, params, deadline, violations, bad_facts, warnings, fired, reached):
    """One condition over the items of its scope: a violation, a warning or bad facts each
    time its `when` holds."""
    cond = version.conditions[index]
    scope = version.scopes[cond.scope]
    when, fields = version.bound[id(cond)]
    deadline.check(cond.where, f"at condition {cond.code}")
    for item in items_by_scope.get(cond.scope, ()):
        try:
            with Recording() as rec:
                raised = when(item)
                message = _message(cond, fields, item) if raised else ""
            _note(rec, item, warnings, reached)
        except Exception as exc:
            if isinstance(exc, MissingKey):
                raise FactsError(Diagnostic("", exc.diagnostics[0].message,
                                            schemacheck.json_path(item.path) if item.path else "")) from None
            if not isinstance(exc, EvaluationError):
                exc = evaluation_error(exc, _names(cond.refs, item, params))
            raise EvaluationError(Diagnostic(cond.where, f"condition {cond.code}: "
                                                         f"{exc.diagnostics[0].message}"), exc.reason) from None
        if not raised:
            continue
        if cond.item is not None:
            key = _read(cond.item, item, params)
        else:
            key = item.values.get(scope.key) if scope.key else None
        fired.append(index)
        where = _where(cond, item)
        if cond.severity == "facts":
            bad_facts.append(Diagnostic("", message, where))
        elif cond.severity == "warning":
            w = {"code": cond.code, "message": message}
            if where:
                w["path"] = where
            elif item.label:
                w["path"] = item.label
            warnings.append(w)
        else:
            violations.append({"code": cond.code, "item": json_scalar(key) if key is not None else None,
                               "message": message})


def _where(cond, item) -> str:
    """The JSON path a condition's error or warning names: its `path` (within the item, under
    for_each), else the item's own."""
    base = schemacheck.json_path(item.path) if item.path else ""
    if not cond.path:
        return base
    return f"{base}.{cond.path}" if cond.scope and base else cond.path


def _message(cond, fields, item) -> str:
    """The message with each {field} evaluated for the item and shown plainly, or by its
    number format spec."""
    out = []
    for part in cond.message_parts:
        if isinstance(part, str):
            out.append(part)
            continue
        _text, get, spec = fields[part]
        value = get(item)
        if spec and isinstance(value, (Decimal, int)) and not isinstance(value, bool):
            out.append(format(value, spec))
        else:
            out.append(show(value, "plain"))
    return "".join(out)


def _round(value, rounding, key):
    if rounding is None or value is None:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise EvaluationError(f"result '{key}': rounding '{rounding.name}' needs a number, found {value!r}", "type")
    try:
        out = Decimal(value).quantize(rounding.quantum, rounding=rounding.mode)
    except decimal.InvalidOperation:
        raise EvaluationError(f"result '{key}': {value} is too large to round to {rounding.quantum}", "arithmetic") from None
    return out.copy_abs() if out.is_zero() else out   # never '-0.00'


def _result(fields: tuple[ResultField, ...], item: Item, params, violations) -> dict:
    out = {}
    for f in fields:
        if f.kind == "value":
            out[f.key] = _round(_read(f.ref, item, params), f.rounding, f.key)
        elif f.kind == "each":
            out[f.key] = [_result(f.fields, child, params, violations)
                          for child in item.children[f.scope.rsplit(".", 1)[-1]]]
        elif f.kind == "object":
            out[f.key] = _result(f.fields, item, params, violations) if f.when is None or _read(f.when, item, params) \
                else None
        elif f.kind == "violation_codes":
            out[f.key] = list(dict.fromkeys(v["code"] for v in violations))
        elif f.kind == "violations":
            out[f.key] = [{"code": v["code"], f.item_key_as: v["item"], "message": v["message"]} for v in violations]
        else:
            out[f.key] = not violations
    return out
