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
import string
from decimal import Decimal

from ..check import schema as schemacheck
from .. import types as T
from ..errors import did_you_mean
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


def key_type(c, facts_base, field: str, calendar: bool) -> T.Type:
    """The type of a collection's key field (an id, a date)."""
    node = schemacheck.node_at(c.facts_schema, facts_base + (field,)) if c.facts_schema else None
    found = schemacheck.value_type(node, c.facts_schema) if node is not None else None
    if calendar:
        return T.DATE
    return T.required(found) if found is not None else T.TEXT


def entries_types(c, facts_base) -> tuple[T.Type, T.Type]:
    """(key type, value type) of an object read as entries (its property names and values)."""
    node = schemacheck.node_at(c.facts_schema, facts_base) if c.facts_schema else None
    found = schemacheck.value_type(node, c.facts_schema) if node is not None else None
    if found is not None and found.kind == "map":
        return found.args[0], found.args[1]
    return T.TEXT, T.DECIMAL


# -- names --------------------------------------------------------------------------------------

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
            shown = f"the text {T.shown_value(value)}" if isinstance(value, str) else \
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

    def expression(self, scope, expr, raw, path, owner: str, offset: int = 0) -> T.Type:
        """Infer an expression's type, reporting every problem at its column (offset: where
        the expression starts inside the scalar, for a filter's condition)."""
        if expr is None:
            return T.ANY
        got = infer(expr.tree, expr.text, self.lookup(scope, expr), owner, self.guards)
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


# -- formulas -------------------------------------------------------------------------------------

def _part_source(spec, at, label):
    if label == "expr":
        return (spec, at) if isinstance(spec, str) else (spec["expr"], at + ("expr",))
    if label == "of":
        return (spec["of"], at + ("of",)) if "tiers" in spec else (spec["bands"], at + ("bands",))
    if label.startswith("at["):
        i = int(label[3:-1])
        return spec["at"][i], at + ("at", i)
    if label == "on":
        return spec["switch"], at + ("switch",)
    if label.startswith("case:"):
        return spec["cases"][label[5:]], at + ("cases", label[5:])
    return spec[label], at + (label,)


def type_formulas(c, types: Types, plan) -> dict:
    """Types every formula in dependency order. Returns {id(formula): new spec} for the
    kinds whose data is typed here (map entries and switch cases keyed by typed value)."""
    specs = {}
    for f in plan:
        scope = c.scopes[f.scope]
        spec, at = c.formula_defs[(f.scope, f.name)]
        owner = f"formula '{f.name}'"
        parts = {}
        for label, expr in f.parts:
            raw, path = _part_source(spec, at, label)
            parts[label] = (types.expression(scope, expr, raw, path, owner), path, getattr(types, "last", None))
        t = _KIND_TYPES[f.kind](c, f, spec, at, parts, specs)
        types.values[(f.scope, f.name)] = t
        if f.kind == "expr" and t.kind == "boolean" and parts.get("expr") and parts["expr"][2] is not None:
            got = parts["expr"][2]
            types.guards[("value", f.scope, f.name)] = (got.nonnull_if_true, got.nonnull_if_false)
    return specs


def _expr_type(c, f, spec, at, parts, specs):
    return parts["expr"][0] if "expr" in parts else T.ANY


def _tiers_type(c, f, spec, at, parts, specs):
    of, path, _ = parts.get("of", (T.ANY, at, None))
    _need_number(c, of, path, f"formula '{f.name}' (tiers of {str(spec['of']).strip()})")
    return T.DECIMAL


def _need_number(c, t, path, what, nullable=False):
    if t.kind == "any" or T.is_number(t) and (nullable or not t.optional):
        return True
    if T.is_number(t):
        c.ctx.error(path, f"{what} needs a number, but the value can be null ({T.show(t)})")
    else:
        c.ctx.error(path, f"{what} needs a number, not {T.show(t)}")
    return False


def _map_type(c, f, spec, at, parts, specs):
    table = f.spec
    if table is None:
        return T.ANY
    keys = [parts[f"at[{i}]"][0] if f"at[{i}]" in parts else T.ANY for i in range(len(table.keys))]
    typed, value = typed_map(c, table, keys, f.name)
    specs[id(f)] = {"map": table, "entries": typed}
    return value if value is not None else T.ANY


def typed_map(c, table, keys, user: str):
    """A map's entries keyed by typed values (the types of the expressions that look them up),
    checked: every key is a value its type can take, and, without `missing`, every value the
    key types can take has an entry. Returns (typed entries, the value type)."""
    src = _Reporter(c, table.source)
    for i, kt in enumerate(keys):
        if kt.kind in ("list", "map", "null"):
            c.ctx.error(table.at + ("keys", i), f"map '{table.name}' key '{table.keys[i]}' is looked up by formula "
                                                f"'{user}' with {T.show(kt)}, which cannot be a key")
            return {}, T.ANY

    leaves = []   # (path, type) of every entry's value: their kinds must agree

    def convert(node, level, path):
        if level == len(keys):
            leaves.append((path, T.of_value(node)))
            return node
        out = {}
        kt = T.required(keys[level])
        for k, v in (node or {}).items():
            try:
                key = T.key_value(kt, str(k))
            except ValueError as exc:
                src.errors.append(src.diag(path + (k,), f"map '{table.name}' key '{table.keys[level]}': '{k}' is not "
                                                        f"{exc} (formula '{user}' looks it up with {T.show(kt)})"
                                                        + _close(k, kt), key=True))
                continue
            if key in out:
                src.errors.append(src.diag(path + (k,), f"map '{table.name}': '{k}' is the same key as another entry "
                                                        "at this level", key=True))
                continue
            out[key] = convert(v, level + 1, path + (k,))
        if not table.has_missing and keys[level].kind != "any":
            values = T.finite_values(keys[level])
            if values is None:
                src.errors.append(src.diag(table.at + ("keys", level), f"map '{table.name}' has no 'missing' value, and "
                                           f"'{table.keys[level]}' ({T.show(keys[level])}, as formula '{user}' looks it "
                                           "up) can be a value it has no entry for; add 'missing:' (the value to use "
                                           "then)", key=True))
            else:
                absent = [v for v in values if v not in out]
                if absent:
                    shown = ", ".join("null" if v is None else T.shown_value(v) for v in absent)
                    src.errors.append(src.diag(path, f"map '{table.name}' has no entry for {table.keys[level]} {shown} "
                                                     "and no 'missing' value"))
        return out

    typed = convert(table.entries, 0, table.at + ("entries",))
    value_type = _agreed(leaves, table, src)
    if table.has_missing:
        joined = T.join(value_type, T.of_value(table.missing))
        if joined is None:
            src.errors.append(src.diag(table.at + ("missing",), f"map '{table.name}': missing is "
                                       f"{T.show(T.of_value(table.missing))}, the entries are {T.show(value_type)}"))
        else:
            value_type = joined
    return typed, (T.ANY if value_type.kind == "nothing" else value_type)


def _agreed(leaves, table, src) -> T.Type:
    """The type of a map's values; an entry of another kind than most is the one reported."""
    def kind(t):
        return "number" if t.kind in ("decimal", "integer") else t.kind
    counts: dict = {}
    for _path, t in leaves:
        if t.kind not in ("null", "nothing"):
            counts[kind(t)] = counts.get(kind(t), 0) + 1
    usual = max(counts, key=lambda k: (counts[k], -list(counts).index(k))) if counts else None
    value_type = T.NOTHING
    for path, t in leaves:
        joined = T.join(value_type, t) if usual is None or t.kind in ("null", "nothing") or kind(t) == usual else None
        if joined is None:
            others = "numbers" if usual == "number" else usual
            src.errors.append(src.diag(path, f"map '{table.name}': this entry is {T.show(t)}, the others are {others}"))
        else:
            value_type = joined
    return value_type


class _Reporter:
    """Errors in the file a map is written in (a shared file's map is typed by each policy
    that uses it), collected with this file's errors."""

    def __init__(self, c, source):
        self.errors, self.source = c.ctx.errors, source or c.ctx.src

    def diag(self, path, message, key=False):
        return self.source.diag(path, message, key)


def _close(text, t: T.Type) -> str:
    if t.kind == "text" and t.values:
        return did_you_mean(text, sorted(t.values))
    return ""


def _switch_type(c, f, spec, at, parts, specs):
    on, on_path, _ = parts.get("on", (T.ANY, at, None))
    cases = {}
    result = T.NOTHING
    for label, (t, path, _) in parts.items():
        if label.startswith("case:"):
            text = label[5:]
            try:
                value = T.key_value(T.required(on), text) if on.kind not in ("list", "map") else None
            except ValueError as exc:
                c.ctx.error(path, f"formula '{f.name}': case '{text}' is not {exc} (the switch is on "
                                  f"{T.show(on)}){_close(text, T.required(on))}", key=True)
                continue
            if value in cases:
                c.ctx.error(path, f"formula '{f.name}': case '{text}' is the same value as another case", key=True)
                continue
            cases[value] = label
        if label.startswith("case:") or label == "default":
            joined = T.join(result, t)
            if joined is None:
                c.ctx.error(path, f"formula '{f.name}': this case gives {T.show(t)}, the others {T.show(result)}")
            else:
                result = joined
    if "default" not in parts:
        values = T.finite_values(on)
        if values is None and on.kind != "any":
            c.ctx.error(on_path, f"formula '{f.name}' switches on {T.show(on)} without a default, and that can be a "
                                 "value with no case: add 'default:'")
        elif values is not None and [v for v in values if v not in cases]:
            shown = ", ".join("null" if v is None else T.shown_value(v) for v in values if v not in cases)
            c.ctx.error(at + ("cases",), f"formula '{f.name}' has no case for {shown} and no default")
    specs[id(f)] = {"cases": cases}
    return T.ANY if result.kind == "nothing" else result


def _bands_type(c, f, spec, at, parts, specs):
    of, path, _ = parts.get("of", (T.ANY, at, None))
    nullable = f.spec["when_null"] is not None
    if _need_number(c, of, path, f"formula '{f.name}' (bands of {str(spec['bands']).strip()})", nullable=True):
        if (of.optional or of.kind == "null") and not nullable:
            c.ctx.error(path, f"formula '{f.name}': {str(spec['bands']).strip()} can be null ({T.show(of)}) and no "
                              "band is named for null: add 'when_null:'")
    if "previous" in parts:
        prev, ppath, _ = parts["previous"]
        if prev.kind not in ("text", "any", "null"):
            c.ctx.error(ppath, f"formula '{f.name}': previous must be text (a band's name), not {T.show(prev)}")
    return T.text_of(*(b.name for b in f.spec["bands"]))


_KIND_TYPES = {"expr": _expr_type, "tiers": _tiers_type, "map": _map_type, "switch": _switch_type,
               "bands": _bands_type}


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
    message_types(c, types, scope, spec["message"], at + ("message",), proven)
    if cond.item is not None:
        it = types.binding(cond.item).type
        if it.kind in ("list", "map"):
            c.ctx.error(at + ("item",), f"condition {cond.code}: the item it names must be one value, not {T.show(it)}")


_SAMPLES = {"decimal": Decimal("-1234.5678"), "integer": -1234}


def message_types(c, types: Types, scope, template: str, at, proven=frozenset()):
    """A format spec ({x:,.2f}) only on a number that cannot be null, and one that formats it."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return   # reported by the compiler
    for _, field, spec, conversion in parts:
        if field is None or not spec or not re.fullmatch(r"[a-z_][a-z0-9_]*", field) or conversion:
            continue
        b = types.binding(c._resolve(scope, field))
        if b is None or b.type.kind == "any":
            continue
        if b.key in proven:
            b = Binding(b.key, T.required(b.type), b.shown)
        if not T.is_number(b.type) or b.type.optional:
            c.ctx.error(at, f"'{{{field}:{spec}}}' formats a number, but {b.shown} "
                            + ("can be null" if T.is_number(b.type) else "is not one")
                            + f"; write {{{field}}}")
            continue
        try:
            format(_SAMPLES[b.type.kind], spec)
        except (ValueError, KeyError):
            c.ctx.error(at, f"'{{{field}:{spec}}}': '{spec}' is not a format for {T.show(b.type)} such as ',.2f'")


def type_result(c, types: Types, fields, spec, at, scope):
    """Rounding only on numbers; an object's `when` true or false."""
    for f in fields:
        fspec, fat = spec[f.key], at + (f.key,)
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
