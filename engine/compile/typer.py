"""The type pass of the compiler: every value of a rule file gets a static type when the
rules load, and every misuse is an error with file:line:col, all of them in one pass.

- parameters: from their YAML value (a quoted "100k" is text, wherever it is used);
- inputs: from the facts-schema node they read (a declared `type` may refine text to a
  month or a date, or widen an integer to a decimal; anything else that disagrees is an
  error); optional when the facts may leave them out and they have no default;
- formulas, in dependency order: expressions by inference (engine.typecheck), tier
  tables, maps (keys matched by typed value, every key the type can take covered or a
  `missing` value), switches (the same for cases), bands;
- conditions (`when` is true or false), their messages (a format spec fits the value's
  type), result fields (rounding only on numbers), as_of_default (a date).
"""
from __future__ import annotations

import re

from decimal import Decimal

from ..check import schema as schemacheck
from .. import types as T
from ..kinds import owner_of
from .typecheck import Binding, infer


# -- inputs -----------------------------------------------------------------------------------

def input_type(c, name: str, spec: dict, at, facts_base, ipath):
    """(type, default) of a declared input: the facts schema's type, refined or checked by
    a declared `type`; optional where the facts may leave it out and no default is given."""
    node = schemacheck.node_at(c.facts_schema, facts_base + ipath) if c.facts_schema else None
    if c.facts_schema is not None and node is None:
        return T.ANY, spec.get("default")   # not in the facts schema: reported by the compiler
    found = schemacheck.value_type(node, c.facts_schema) if node is not None else None
    declared = None
    if "type" in spec:
        try:
            declared = T.parse(spec["type"]) if spec["type"] not in ("list", "map") else None
        except ValueError:
            c.ctx.error(at + ("type",), f"'{spec['type']}' is not a type; write decimal, integer, boolean, text, date, "
                                        "month, list of T, map of K to V or optional T")
            return T.ANY, spec.get("default")
    if spec.get("type") in ("list", "map"):   # the kind alone: the items' types come from the schema
        if found is not None and found.kind != spec["type"]:
            c.ctx.error(at + ("type",), f"input '{name}' is declared a {spec['type']}, but the facts schema says "
                                        f"{T.show(found)}")
            return T.ANY, spec.get("default")
        declared = found if found is not None else (T.list_of(T.ANY) if spec["type"] == "list"
                                                    else T.map_of(T.TEXT, T.ANY))
    if declared is None and found is None:
        if c.facts_schema is not None and node is not None:
            c.ctx.error(at, f"the facts schema does not say what kind of value input '{name}' is; give it a "
                            "'type' (decimal, integer, boolean, text, date, month, list of T, ...)", key=True)
        t = T.ANY
    elif declared is None:
        t = found
    elif found is None or found.kind == "any":
        t = declared
    elif _refines(declared, found):
        t = declared if declared.kind in ("month", "date", "decimal") or declared.kind != found.kind else found
        t = T.bounded(t, *found.bounds) if found.bounds is not None else t   # the schema's bounds still hold
        t = T.optional(t) if declared.optional or found.optional else t
    else:
        c.ctx.error(at + ("type",), f"input '{name}' is declared {T.show(declared)}, but the facts schema says "
                                    f"{T.show(found)}")
        t = T.ANY
    default = spec.get("default")
    if "default" in spec:
        t, default = _with_default(c, name, t, default, at + ("default",))
        if default is not None and node is not None and t.kind not in ("month", "date", "any"):
            problem = schemacheck.problem_of(node, c.facts_schema, spec["default"])
            if problem:
                c.ctx.error(at + ("default",), f"the default of input '{name}' ({T.shown_value(spec['default'])}) "
                                               f"is not a value the facts schema allows there: {problem}")
    elif c.facts_schema is not None and schemacheck.can_be_absent(c.facts_schema, facts_base, ipath):
        t = T.optional(t)
    return t, default


def _refines(declared: T.Type, found: T.Type) -> bool:
    """A declaration that says more than the schema, or the same: text read as a month or a
    date, an integer taken as a decimal, text of known values taken as text."""
    if found.kind == "text" and declared.kind in ("month", "date", "text"):
        return declared.kind != "text" or declared.values is None or (found.values or set()) <= declared.values
    if found.kind == "integer" and declared.kind == "decimal":
        return True
    return T.accepts(T.optional(declared), found) and declared.kind == found.kind


def _with_default(c, name, t: T.Type, default, at):
    if default is None:
        return T.optional(t), None
    if t.kind == "decimal" and isinstance(default, int) and not isinstance(default, bool):
        default = Decimal(default)
    dt = T.INTEGER if t.kind == "integer" and isinstance(default, int) and not isinstance(default, bool) \
        else T.of_value(default)
    if t.kind in ("month", "date") and isinstance(default, str):
        try:
            default = T.key_value(t, default)
            dt = t
        except ValueError as exc:
            c.ctx.error(at, f"the default of input '{name}' must be {exc}, found {T.shown_value(default)}")
            return t, None
    if t.kind == "list" and isinstance(default, list):
        default = tuple(default)
    if not T.accepts(T.required(t), dt):
        c.ctx.error(at, f"the default of input '{name}' ({T.shown_value(default)}) is not {T.show(T.required(t))}")
    return T.required(t), default


def key_type(c, facts_base, field: str) -> T.Type:
    """The type of a collection's key field (an id, a date)."""
    node = schemacheck.node_at(c.facts_schema, facts_base + (field,)) if c.facts_schema else None
    found = schemacheck.value_type(node, c.facts_schema) if node is not None else None
    return T.required(found) if found is not None else T.TEXT


def entries_types(c, facts_base) -> tuple[T.Type, T.Type]:
    """(key type, value type) of an object read as entries (its property names and values)."""
    node = schemacheck.node_at(c.facts_schema, facts_base) if c.facts_schema else None
    found = schemacheck.value_type(node, c.facts_schema) if node is not None else None
    if found is not None and found.kind == "map":
        return found.args[0], found.args[1]
    return T.TEXT, T.DECIMAL


# -- names --------------------------------------------------------------------------------------

def _text_parameter(p) -> str:
    """A text parameter in a message; one that looks like a number says how to write it."""
    shown = f"the text {T.shown_value(p.value)}"
    m = re.fullmatch(r"\s*(-?[0-9][0-9.,_]*)\s*(%?)\s*([A-Za-z][A-Za-z ]*)?\s*", p.value)
    if not m:
        return shown
    line = p.where.rsplit(":", 2)[-2] if p.where.count(":") >= 2 else "?"
    scale = {"k": 3, "m": 6, "mn": 6, "bn": 9}.get((m.group(3) or "").strip().lower())
    digits = m.group(1).replace(",", "").replace("_", "")
    if scale and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", digits):
        how = f"a number is written in full and without quotes, {format(Decimal(digits).scaleb(scale), 'f')}"
    elif m.group(3):
        how = "a number is written alone, without quotes; its unit goes under unit:"
    elif m.group(2):
        how = "a percentage is written as a fraction, without quotes: 0.1% is 0.001"
    elif digits != m.group(1):
        how = f"a number is written without quotes or separators, {digits}"
    else:
        how = "a number is written without quotes"
    return f"{shown}, line {line}: {how}"


class Types:
    """The types of everything named in one rule file, filled in as the pass goes."""

    def __init__(self, c):
        self.c = c
        self.values: dict = {}   # (scope qualified, name) -> Type: inputs and formulas
        self.guards: dict = {}   # binding key -> (keys non-null when true, when false)
        self.params = {name: T.of_value(p.value) for name, p in c.params.items()}
        for scope in c.scopes.values():
            for inp in scope.inputs.values():
                self.values[(scope.qualified, inp.name)] = inp.type

    def binding(self, ref) -> Binding | None:
        if ref is None:
            return None
        if ref.kind == "param":
            value = self.c.params[ref.target].value
            shown = _text_parameter(self.c.params[ref.target]) if isinstance(value, str) else \
                T.shown_value(value) if not isinstance(value, (list, tuple)) else T.show(self.params[ref.target])
            return Binding(("param", ref.target), self.params[ref.target], f"parameter '{ref.name}' ({shown})", value)
        t = self.values.get((ref.child, ref.target), T.ANY)
        if ref.kind == "child":
            return Binding(("child", ref.child, ref.target), T.list_of(t), f"'{ref.name}' ({T.show(T.list_of(t))})")
        return Binding(("value", ref.child, ref.target), t, f"'{ref.name}' ({T.show(t)})")

    def lookup(self, scope, expr=None):
        def find(name):
            ref = self.c.filter_refs.get((id(expr), name)) if expr is not None else None
            return self.binding(ref if ref is not None else self.c._resolve(scope, name))
        return find

    def expression(self, scope, expr, raw, path, owner: str, offset: int = 0, narrowed=frozenset()) -> T.Type:
        """Infer an expression's type, reporting every problem at its column (offset: where
        the expression starts inside the scalar, for a filter's condition or a message's
        field; narrowed: the names known not to be null there)."""
        if expr is None:
            return T.ANY
        got = infer(expr.tree, expr.text, self.lookup(scope, expr), owner, self.guards, self.caller(scope, owner),
                    narrowed)
        lead = len(str(raw)) - len(str(raw).lstrip()) + offset
        for col, message in got.errors:
            self.c.ctx.errors.append(self.c.ctx.diag_at(path, col + lead, message))
        for f in expr.filters:   # each `where` condition: true or false, for the items it filters
            ref = self.c.filter_refs.get((id(expr), f.placeholder))
            if ref is None:
                continue
            t = self.expression(self.c.scopes[ref.child], ref.filter[0], raw, path, owner, offset=lead + f.condition_col
                                - (len(str(raw)) - len(str(raw).lstrip())))
            if t.kind != "any" and (t.kind != "boolean" or t.optional):
                self.c.ctx.errors.append(self.c.ctx.diag_at(path, lead + f.condition_col,
                                                            f"{owner}: 'where' needs true or false, not {T.show(t)}"))
        self.last = got
        return got.type

    last = None

    def caller(self, scope, owner):
        """How a call of a table or tiers is typed in this scope: (type, problems at the call)."""
        def call(name, arg_types):
            base, _, output = name.partition(".")
            kind, obj = owner_of(self.c, base)
            return kind.type_call(self.c, self, scope, obj, output or None, arg_types, owner)
        return call


# -- formulas, and the tables and tiers they call --------------------------------------------------

def type_formulas(c, types: Types, plan):
    """Types every formula in dependency order (a boolean formula that tests for null is a
    guard: where it holds, what it tests is a value)."""
    for f in plan:
        spec, at = c.formula_defs[(f.scope, f.name)]
        raw, path = (spec, at) if isinstance(spec, str) else (spec["expr"], at + ("expr",))
        expr = f.parts[0][1] if f.parts else None
        t = types.expression(c.scopes[f.scope], expr, raw, path, f"formula '{f.name}'")
        types.values[(f.scope, f.name)] = t
        if t.kind == "boolean" and types.last is not None:
            types.guards[("value", f.scope, f.name)] = (types.last.nonnull_if_true, types.last.nonnull_if_false)


# -- conditions, messages, result, as_of ------------------------------------------------------------

def type_condition(c, types: Types, cond, spec, at):
    types.last = None
    if cond.when is None:
        return
    scope = c.scopes[cond.scope]
    t = types.expression(scope, cond.when, spec["when"], at + ("when",), f"condition {cond.code}")
    if t.kind != "any" and (t.kind != "boolean" or t.optional):
        c.ctx.error(at + ("when",), f"condition {cond.code}: 'when' must be true or false, not {T.show(t)}")
    # a message is written only when `when` is true: what that proves non-null is a value there
    proven = types.last.nonnull_if_true if types.last is not None else frozenset()
    message_types(c, types, cond, at + ("message",), proven)
    if cond.item is not None:
        it = types.binding(cond.item).type
        if it.kind in ("list", "map"):
            c.ctx.error(at + ("item",), f"condition {cond.code}: the item it names must be one value, not {T.show(it)}")


_SAMPLES = {"decimal": Decimal("-1234.5678"), "integer": -1234}


def message_types(c, types: Types, cond, at, proven=frozenset()):
    """Each {field} of a message is an expression of the condition's scope; a format spec
    ({x:,.2f}) only on a number that cannot be null, and one that formats it."""
    scope, message = c.scopes[cond.scope], c.ctx.src.data_at(at)
    for text, expr, _refs, spec in cond.message_fields:
        col = _field_column(message, text)
        t = types.expression(scope, expr, text, at, f"condition {cond.code}", offset=col, narrowed=proven)
        if not spec or t.kind == "any":
            continue
        shown = f"'{text.strip()}' ({T.show(t)})"
        if not T.is_number(t) or t.optional:
            c.ctx.error(at, f"'{{{text}:{spec}}}' formats a number, but {shown} "
                            + ("can be null" if T.is_number(t) else "is not one") + f"; write {{{text}}}")
            continue
        try:
            format(_SAMPLES[t.kind], spec)
        except (ValueError, KeyError):
            c.ctx.error(at, f"'{{{text}:{spec}}}': '{spec}' is not a format for {T.show(t)} such as ',.2f'")


def _field_column(message, text) -> int:
    at = str(message or "").find("{" + text)
    return at + 1 if at >= 0 else 0


def type_result(c, types: Types, fields, spec, at, scope):
    """Rounding only on numbers; an object's `when` true or false."""
    for f in fields:
        fspec, fat = spec[f.key], at + (f.key,)
        if f.kind == "value" and f.ref is not None:
            b = types.binding(f.ref)
            if b is not None:
                c.result_types[id(f)] = b.type
        if f.kind == "value" and f.rounding is not None and f.ref is not None:
            b = types.binding(f.ref)
            if b and b.type.kind != "any" and not (T.is_number(b.type) or b.type.kind == "null"):
                c.ctx.error(fat + ("value",), f"result '{f.key}' is rounded ('{f.rounding.name}'), but {b.shown} "
                                              "is not a number")
        elif f.kind == "each":
            child = scope.children.get(fspec["for_each"])
            if child is not None:
                type_result(c, types, f.fields, fspec["fields"], fat + ("fields",), child)
        elif f.kind == "object":
            if f.when is not None:
                b = types.binding(f.when)
                if b and b.type.kind != "any" and (b.type.kind != "boolean" or b.type.optional):
                    c.ctx.error(fat + ("when",), f"result '{f.key}': 'when' must be true or false, but {b.shown} is not")
            type_result(c, types, f.fields, fspec["fields"], fat + ("fields",), scope)


def type_as_of(c, types: Types, formula, raw):
    if formula.kind != "expr" or not formula.parts:   # not an expression that parsed: reported already
        return
    t = types.expression(c.scopes[""], formula.part("expr"), raw, ("as_of_default",), "as_of_default")
    if t.kind not in ("date", "any") or t.optional:
        c.ctx.error(("as_of_default",), f"as_of_default must give a date, not {T.show(t)}")
