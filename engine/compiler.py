"""Rule file -> Version: schema check, name resolution, dependency order, static checks.

Every problem found in a file is collected and raised together as one RuleError, each
with file:line:col.
"""
from __future__ import annotations

import hashlib
import string
from datetime import date
from decimal import Decimal
from pathlib import Path

from . import schemacheck
from .errors import Diagnostic, RuleError, did_you_mean
from .expressions import ExpressionSyntaxError, parse
from .functions import FUNCTIONS
from .model import (Condition, Formula, Input, Parameter, Ref, ResultField, Rounding, Row,
                    Scope, Table, Version)
from .yamlsrc import Source, load_yaml

ROUNDING_MODES = {"half_up": "ROUND_HALF_UP", "half_even": "ROUND_HALF_EVEN", "half_down": "ROUND_HALF_DOWN",
                  "down": "ROUND_DOWN", "up": "ROUND_UP", "floor": "ROUND_FLOOR", "ceiling": "ROUND_CEILING"}


class _Ctx:
    """What one file's compilation accumulates."""

    def __init__(self, src: Source):
        self.src = src
        self.errors: list[Diagnostic] = []

    def error(self, path, message, key=False):
        self.errors.append(self.src.diag(path, message, key))

    def expr_where(self, path, col: int) -> str:
        """file:line:col of a character inside an expression scalar (exact on one line)."""
        where = self.src.where(path)
        line, _, c = where.rpartition(":")
        quoted = 1 if self.src.styles.get(tuple(path)) in ("'", '"') else 0
        return f"{line}:{int(c) + quoted + col}"


def compile_file(file: Path, display: str, rule_validator, schema_dirs) -> Version:
    raw = Path(file).read_bytes()
    src = load_yaml(raw, display)
    ctx = _Ctx(src)
    doc = src.data
    if not isinstance(doc, dict):
        raise RuleError(src.diag((), "a rule file is a mapping of keys (policy, version, ...)"))
    for path, message, at_key in schemacheck.explain(rule_validator, doc):
        ctx.error(path, message, at_key)
    if ctx.errors:
        raise RuleError(ctx.errors)
    version = _Compiler(ctx, doc, file, raw, schema_dirs).build()
    if ctx.errors:
        raise RuleError(ctx.errors)
    return version


class _Compiler:
    def __init__(self, ctx: _Ctx, doc: dict, file: Path, raw: bytes, schema_dirs):
        self.ctx, self.doc, self.file, self.raw, self.schema_dirs = ctx, doc, Path(file), raw, schema_dirs
        self.scopes: dict[str, Scope] = {}
        self.formula_defs: dict[tuple[str, str], tuple] = {}   # (scope, name) -> (spec, yaml path)
        self.formulas: dict[tuple[str, str], Formula] = {}
        self.facts_schema: dict | None = None

    # -- top level ---------------------------------------------------------------------
    def build(self) -> Version:
        d, ctx = self.doc, self.ctx
        if d["policy"] != self.file.parent.name:
            ctx.error(("policy",), f"policy '{d['policy']}' must match its folder name '{self.file.parent.name}'")
        if str(d["version"]) != self.file.stem:
            ctx.error(("version",), f"version '{d['version']}' must match the file name '{self.file.stem}'")
        published = schemacheck.parse_timestamp(d["published"])
        effective = date.fromisoformat(d["effective_from"])
        validator = self._facts_schema(d["facts_schema"])

        self.params = {}
        for name, spec in (d.get("parameters") or {}).items():
            value = spec["value"]
            if isinstance(value, int) and not isinstance(value, bool):
                value = Decimal(value)   # numbers from rule data are Decimal, whole or not
            self.params[name] = Parameter(name, value, spec.get("unit"), spec.get("source"), spec.get("assumed"),
                                          ctx.src.where(("parameters", name), key=True))
        self.tables = {name: self._table(name, spec) for name, spec in (d.get("tables") or {}).items()}
        self.rounding = {name: Rounding(name, Decimal(str(spec["quantum"])), ROUNDING_MODES[spec["mode"]])
                         for name, spec in (d.get("rounding") or {}).items()}
        for name, spec in self.rounding.items():
            if spec.quantum <= 0:
                ctx.error(("rounding", name, "quantum"), f"quantum must be positive, found {spec.quantum}")

        root = self._scope(d, (), "", "", None, ())
        plan = self._plan()
        as_of = None
        if d.get("as_of_default"):
            as_of = self._formula(root, "as_of_default", d["as_of_default"], ("as_of_default",))
            for ref in as_of.refs:
                if ref.kind == "value" and ref.target not in root.inputs:
                    ctx.error(("as_of_default",), f"as_of_default may read only top-level inputs; '{ref.name}' is not one")
        conditions = tuple(self._condition(i, c) for i, c in enumerate(d.get("conditions") or ()))
        result = self._result_fields(d["result"], root, ("result",))
        self._unused(root)
        return Version(
            policy=d["policy"], version=str(d["version"]), title=d["title"], source=d["source"],
            published=published, effective_from=effective, assumed=tuple(d.get("assumed") or ()),
            notes=tuple(d.get("notes") or ()), facts_schema=d["facts_schema"], facts_validator=validator,
            as_of_default=as_of, parameters=self.params, tables=self.tables, root=root, scopes=self.scopes,
            plan=plan, conditions=conditions, result=result,
            digest="sha256:" + hashlib.sha256(self.raw).hexdigest(), path=self.ctx.src.path)

    def _facts_schema(self, name: str):
        for folder in self.schema_dirs:
            candidate = Path(folder) / name
            if candidate.is_file():
                try:
                    schema = schemacheck.load_schema(candidate)
                    schemacheck.validator_for(schema).check_schema(schema)
                except Exception as exc:  # a broken schema file is a rule error, said plainly
                    self.ctx.error(("facts_schema",), f"facts schema {candidate} cannot be used: {str(exc).splitlines()[0]}")
                    return None
                self.facts_schema = schema
                return schemacheck.validator_for(schema)
        self.ctx.error(("facts_schema",), f"facts schema '{name}' not found in {', '.join(str(f) for f in self.schema_dirs)}")
        return None

    # -- tables ------------------------------------------------------------------------
    def _table(self, name, spec) -> Table:
        rows = []
        for i, row in enumerate(spec["rows"]):
            low = Decimal(str(row["from"]))
            high = Decimal(str(row["to"])) if "to" in row else None
            rows.append(Row(low, high, Decimal(str(row["value"]))))
            at = ("tables", name, "rows", i)
            if high is not None and high <= low:
                self.ctx.error(at + ("to",), f"tier row 'to: {high}' must be above its 'from: {low}'")
            if i and rows[i - 1].high is None:
                self.ctx.error(at, "only the last tier row may leave out 'to'")
            elif i and low < rows[i - 1].high:
                self.ctx.error(at + ("from",), f"tier rows must ascend: 'from: {low}' follows 'to: {rows[i - 1].high}'")
            elif i and low != rows[i - 1].high:
                self.ctx.error(at + ("from",), f"tier rows must be contiguous: 'from: {low}' leaves a gap after "
                                               f"'to: {rows[i - 1].high}'")
        return Table(name, tuple(rows), spec.get("description"), spec.get("assumed"),
                     self.ctx.src.where(("tables", name), key=True))

    # -- scopes ------------------------------------------------------------------------
    def _scope(self, spec, path, name, qualified, parent, facts_base) -> Scope:
        """facts_base: the facts-schema path of the items of this scope (for checking inputs)."""
        scope = Scope(name=name, qualified=qualified, path=tuple(str(spec.get("path", "")).split(".")) if name else (),
                      key=spec.get("key"), calendar=spec.get("calendar"), parent=parent,
                      where=self.ctx.src.where(path, key=True) if path else self.ctx.src.path)
        self.scopes[qualified] = scope
        item_schema = self._schema_at(facts_base)
        for iname, ispec in (spec.get("inputs") or {}).items():
            at = path + ("inputs", iname)
            ipath = tuple(ispec["path"].split("."))
            self._check_fact_path(item_schema, ipath, at + ("path",), facts_base)
            if iname in self.params:
                self.ctx.error(at, f"input '{iname}' has the name of a parameter", key=True)
            default = ispec.get("default")
            if default is not None and ispec["type"] == "decimal" and not isinstance(default, bool):
                try:
                    default = Decimal(str(default))
                except ArithmeticError:
                    self.ctx.error(at + ("default",), f"default of a decimal input must be a number, found {default!r}")
            scope.inputs[iname] = Input(iname, ipath, ispec["type"], default, "default" in ispec,
                                        self.ctx.src.where(at, key=True))
        if scope.key and scope.key not in scope.inputs:
            key_type = "date" if scope.calendar else "string"
            self._check_fact_path(item_schema, (scope.key,), path + ("key",), facts_base)
            scope.inputs[scope.key] = Input(scope.key, (scope.key,), key_type, None, False, scope.where)
        if scope.calendar:
            if not scope.key:
                self.ctx.error(path + ("calendar",), "a calendar collection needs 'key' (the date field)")
            month = self._lookup_up(parent, scope.calendar)
            if month is None or month[1].type != "month":
                self.ctx.error(path + ("calendar",), f"calendar '{scope.calendar}' must name a month input of an "
                                                     "enclosing scope")
            for inp in scope.inputs.values():
                if inp.name != scope.key and not inp.has_default:
                    self.ctx.error(path + ("inputs", inp.name), f"input '{inp.name}' of a calendar collection needs a "
                                                                "'default' for days with no entry", key=True)
        for cname, cspec in (spec.get("collections") or {}).items():
            cpath = tuple(cspec["path"].split("."))
            at = path + ("collections", cname)
            child_base = facts_base + cpath + ("[]",)
            if self._check_fact_path(item_schema, cpath, at + ("path",), facts_base, want_array=True):
                scope.children[cname] = self._scope(cspec, at, cname, f"{qualified}.{cname}" if qualified else cname,
                                                    scope, child_base)
        names = []
        for fname, fspec in (spec.get("formulas") or {}).items():
            at = path + ("formulas", fname)
            if fname in scope.inputs or (not name and fname in self.params):
                self.ctx.error(at, f"formula '{fname}' has the name of an input or parameter", key=True)
            self.formula_defs[(qualified, fname)] = (fspec, at)
            names.append(fname)
        scope.formula_names = tuple(names)
        return scope

    def _schema_at(self, base):
        """The facts-schema node at a path of property names and '[]' (array items)."""
        node = self.facts_schema
        for part in base:
            node = self._deref(node)
            if node is None:
                return None
            node = node.get("items") if part == "[]" else (node.get("properties") or {}).get(part)
        return self._deref(node)

    def _deref(self, node):
        while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/"):
            target = self.facts_schema
            for part in node["$ref"][2:].split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            node = target
        return node

    def _check_fact_path(self, item_schema, fpath, at, base, want_array=False) -> bool:
        if self.facts_schema is None:
            return True
        node = item_schema
        for i, part in enumerate(fpath):
            props = (self._deref(node) or {}).get("properties") or {}
            if part not in props:
                shown = ".".join(fpath[: i + 1])
                prefix = ".".join(fpath[:i] + ("",))
                hint = did_you_mean(shown, [prefix + p for p in props])
                self.ctx.error(at, f"the facts schema has no '{shown}'{hint}")
                return False
            node = self._deref(props[part])
        if want_array and (node or {}).get("type") != "array":
            self.ctx.error(at, f"'{'.'.join(fpath)}' is not a list in the facts schema")
            return False
        return True

    # -- names ---------------------------------------------------------------------------
    def _lookup_up(self, scope, name):
        """(levels up, Input) of an input visible from scope, or None."""
        up = 0
        while scope is not None:
            if name in scope.inputs:
                return up, scope.inputs[name]
            scope, up = scope.parent, up + 1
        return None

    def _resolve(self, scope: Scope, name: str):
        if "." in name:
            cname, field_name = name.split(".", 1)
            child = scope.children.get(cname)
            if child is None:
                return None
            if field_name in child.inputs or field_name in child.formula_names:
                return Ref(name, "child", field_name, 0, child.qualified)
            return None
        up, s = 0, scope
        while s is not None:
            if name in s.inputs or name in s.formula_names:
                return Ref(name, "value", name, up, s.qualified)
            s, up = s.parent, up + 1
        if name in self.params:
            return Ref(name, "param", name)
        return None

    def _visible(self, scope: Scope) -> list[str]:
        out, s = [], scope
        while s is not None:
            out += list(s.inputs) + list(s.formula_names)
            s = s.parent
        out += list(self.params)
        for cname, child in scope.children.items():
            out += [f"{cname}.{f}" for f in list(child.inputs) + list(child.formula_names)]
        return out

    def _expression(self, scope: Scope, text, at, owner: str):
        """Parse and resolve an expression; errors are recorded. Returns (Expression, refs) or (None, ()).
        `owner` names what the expression belongs to in messages ("formula 'total'")."""
        try:
            expr = parse(text, frozenset(scope.children))
        except ExpressionSyntaxError as exc:
            self.ctx.errors.append(Diagnostic(self.ctx.expr_where(at, exc.col), exc.message))
            return None, ()
        refs = []
        lead = len(str(text)) - len(str(text).lstrip())
        for name, col in zip(expr.names, expr.columns):
            ref = self._resolve(scope, name)
            if ref is None:
                where = self.ctx.expr_where(at, col + lead)
                if name in FUNCTIONS:
                    message = f"{owner} uses the function '{name}' as a value; call it as {name}(...)"
                else:
                    message = (f"{owner} uses '{name}', which is not defined"
                               f"{did_you_mean(name, self._visible(scope))}")
                self.ctx.errors.append(Diagnostic(where, message))
                continue
            refs.append(ref)
        return expr, tuple(refs)

    def _formula(self, scope: Scope, name, spec, at) -> Formula:
        if isinstance(spec, str):
            spec = {"expr": spec}
            expr_at = at
        else:
            expr_at = at + ("expr",) if "expr" in spec else at + ("of",)
        if "expr" in spec:
            expr, refs = self._expression(scope, spec["expr"], expr_at, f"formula '{name}'")
            return Formula(name, scope.qualified, str(spec["expr"]).strip(), expr, refs=refs,
                           where=self.ctx.src.where(at, key=True))
        table = self.tables.get(spec["tiers"])
        if table is None:
            self.ctx.error(at + ("tiers",), f"table '{spec['tiers']}' is not defined{did_you_mean(spec['tiers'], self.tables)}")
        expr, refs = self._expression(scope, spec["of"], expr_at, f"formula '{name}'")
        method = spec.get("method", "marginal")
        return Formula(name, scope.qualified, str(spec["of"]).strip(), expr, table=table, method=method, refs=refs,
                       where=self.ctx.src.where(at, key=True))

    # -- dependency order ------------------------------------------------------------------
    def _plan(self) -> tuple[Formula, ...]:
        for (qual, name), (spec, at) in self.formula_defs.items():
            self.formulas[(qual, name)] = self._formula(self.scopes[qual], name, spec, at)
        order: list[Formula] = []
        state: dict = {}

        def deps(f: Formula):
            for ref in f.refs:
                if ref.kind == "value":
                    key = (ref.child, ref.target)
                elif ref.kind == "child":
                    key = (ref.child, ref.target)
                else:
                    continue
                if key in self.formulas:
                    yield key

        def visit(key, stack):
            if state.get(key) == "done":
                return
            if state.get(key) == "active":
                cycle = stack[stack.index(key):] + [key]
                f = self.formulas[key]
                shown = " -> ".join((f"{q}.{n}" if q else n) for q, n in cycle)
                self.ctx.errors.append(Diagnostic(f.where, f"formulas form a cycle: {shown}"))
                return
            state[key] = "active"
            for dep in deps(self.formulas[key]):
                visit(dep, stack + [key])
                if state.get(dep) == "active":  # cycle already reported
                    state[key] = "done"
                    return
            state[key] = "done"
            order.append(self.formulas[key])

        for key in self.formulas:
            visit(key, [])
        return tuple(order)

    # -- conditions and result ---------------------------------------------------------------
    def _scope_by_path(self, text, at):
        scope = self.scopes[""]
        for part in text.split("."):
            nxt = scope.children.get(part)
            if nxt is None:
                self.ctx.error(at, f"'{part}' is not a collection here{did_you_mean(part, scope.children)}")
                return None
            scope = nxt
        return scope

    def _condition(self, i, spec) -> Condition:
        at = ("conditions", i)
        scope = self._scope_by_path(spec["for_each"], at + ("for_each",)) if spec.get("for_each") else self.scopes[""]
        scope = scope or self.scopes[""]
        when, refs = self._expression(scope, spec["when"], at + ("when",), f"condition {spec['code']}")
        message_refs = []
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(spec["message"]) if f]
        except ValueError as exc:
            self.ctx.error(at + ("message",), f"bad message template: {exc}")
            fields = []
        for fname in fields:
            ref = self._resolve(scope, fname)
            if ref is None:
                self.ctx.error(at + ("message",), f"message uses '{{{fname}}}', which is not defined"
                                                  f"{did_you_mean(fname, self._visible(scope))}")
            else:
                message_refs.append(ref)
        return Condition(spec["code"], scope.qualified, when, refs, spec["message"], tuple(message_refs),
                         spec.get("severity", "violation"), self.ctx.src.where(at))

    def _result_fields(self, spec: dict, scope: Scope, at) -> tuple[ResultField, ...]:
        out = []
        for key, field_spec in spec.items():
            fat = at + (key,)
            if isinstance(field_spec, str) or "value" in field_spec:
                name = field_spec if isinstance(field_spec, str) else field_spec["value"]
                ref = self._resolve(scope, name)
                if ref is None or ref.kind == "child":
                    self.ctx.error(fat, f"result '{key}' names '{name}', which is not defined here"
                                        f"{did_you_mean(name, self._visible(scope))}")
                rounding = None
                if isinstance(field_spec, dict) and "round" in field_spec:
                    rounding = self.rounding.get(field_spec["round"])
                    if rounding is None:
                        self.ctx.error(fat + ("round",), f"rounding '{field_spec['round']}' is not defined"
                                                         f"{did_you_mean(field_spec['round'], self.rounding)}")
                out.append(ResultField(key, "value", ref=ref, rounding=rounding))
            elif "for_each" in field_spec:
                child = scope.children.get(field_spec["for_each"])
                if child is None:
                    self.ctx.error(fat + ("for_each",), f"'{field_spec['for_each']}' is not a collection here"
                                                        f"{did_you_mean(field_spec['for_each'], scope.children)}")
                    continue
                fields = self._result_fields(field_spec["fields"], child, fat + ("fields",))
                out.append(ResultField(key, "each", scope=child.qualified, fields=fields))
            elif "violations" in field_spec:
                out.append(ResultField(key, "violations", item_key_as=field_spec["violations"].get("item_key_as", "item")))
            else:
                out.append(ResultField(key, "no_violations"))
        return tuple(out)

    def _unused(self, root: Scope):
        """A parameter nothing reads is most likely a typo or a leftover: an error."""
        used = set()
        for f in self.formulas.values():
            used.update(r.target for r in f.refs if r.kind == "param")
        for key in ("conditions",):
            for c in self.doc.get(key) or ():
                try:
                    used.update(n for n in parse(c["when"], frozenset(self.scopes)).names)
                except ExpressionSyntaxError:
                    pass
                used.update(f for _, f, _, _ in string.Formatter().parse(c["message"]) if f)
        used.update(v if isinstance(v, str) else v.get("value", "") for v in self.doc["result"].values()
                    if isinstance(v, (str, dict)))
        for name, p in self.params.items():
            if name not in used:
                self.ctx.error(("parameters", name), f"parameter '{name}' is not used by any formula, condition or "
                                                     "result", key=True)
        used_tables = {f.table.name for f in self.formulas.values() if f.table}
        for name in self.tables:
            if name not in used_tables:
                self.ctx.error(("tables", name), f"table '{name}' is not used by any formula", key=True)


__all__ = ["compile_file", "load_yaml"]
