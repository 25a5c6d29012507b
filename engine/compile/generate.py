"""One Python module per version, generated from its typed plan when the rules load:

- `read(facts)` checks the facts against their schema and jsonfacts.clean's limits and
  reads every input as its type, in columns: one list per input of each collection, the
  index of each item's parent, where each parent's children start (engine.compile.gen_schema
  writes the checks);
- `run(state, at_ns)` computes the formulas (a loop per collection with the formulas as
  locals, stages in dependency order), the conditions and the result, as the interpreter
  (engine.run.evaluate) does; it returns (result, warnings).

Generated code decides the ordinary case only: anything else raises, and the interpreter
decides from the start (engine.run.compiled). `policy compile` prints the source.
"""
from __future__ import annotations

import re
from decimal import Decimal

from .. import types as T
from ..check.schema import format_ok
from ..load.jsonfacts import _PLAIN
from ..run import support
from ..run.items import convert
from ..values import json_scalar
from .gen_expr import Context, ExprCode, Unsupported
from .gen_json import emitter
from .gen_plan import kept_outside, place_checks, stages
from .gen_reader import reader
from .gen_schema import Unsupported as SchemaUnsupported
from .source import Source


class Generator:
    def __init__(self, version):
        self.version = version
        self.src = Source()
        self.sid = {q: i for i, q in enumerate(version.scopes)}

    # -- names -----------------------------------------------------------------------------------
    def col(self, scope, name) -> str:
        return f"v_{name}" if scope.qualified == "" else f"c{self.sid[scope.qualified]}_{name}"

    def n(self, scope) -> str:
        return f"n{self.sid[scope.qualified]}"

    def type_of(self, ref):
        if ref.kind == "param":
            return T.of_value(self.version.parameters[ref.target].value)
        if ref.kind == "child":
            return None
        return self.version.value_types.get((ref.child, ref.target))

    def read(self, ref, ctx: Context) -> str:
        """A name an expression reads, where ctx evaluates it."""
        v = self.version
        if ref.kind == "param":
            return self.src.const(v.parameters[ref.target].value)
        target = v.scopes[ref.child]
        if ref.kind == "child":
            return self._children(ref, target, ctx)
        if target.qualified == "":
            return f"v_{ref.target}"
        if ref.up == 0:
            if ref.target in ctx.local:
                return f"x_{ref.target}"
            if ctx.columns is not None:   # the loop zips it: a local
                ctx.columns[ref.target] = self.col(target, ref.target)
                return f"y_{ref.target}"
            return f"{self.col(target, ref.target)}[{ctx.idx}]"
        idx, scope = ctx.idx, ctx.scope
        for _ in range(ref.up):
            idx, scope = f"p{self.sid[scope.qualified]}[{idx}]", scope.parent
        return f"{self.col(target, ref.target)}[{idx}]"

    def _children(self, ref, target, ctx: Context) -> str:
        col = self.col(target, ref.target)
        if ctx.scope.qualified == "":
            lo, hi = "0", self.n(target)
        else:
            scope = ctx.scope.children[ref.via[0]]
            o = f"o{self.sid[scope.qualified]}"
            lo, hi = f"{o}[{ctx.idx}]", f"{o}[{ctx.idx} + 1]"
            for name in ref.via[1:]:
                scope = scope.children[name]
                o = f"o{self.sid[scope.qualified]}"
                lo, hi = f"{o}[{lo}]", f"{o}[{hi}]"
        if ref.filter is None:
            return col if ctx.scope.qualified == "" else f"{col}[{lo}:{hi}]"
        j = self.src.fresh("j")
        condition, refs = ref.filter
        keep = self.expression(condition, refs, Context(target, j, statements=False))
        return f"[{col}[{j}] for {j} in range({lo}, {hi}) if {keep}]"

    def expression(self, expression, refs, ctx: Context) -> str:
        placeholders = {f.placeholder: f.shown for f in expression.filters}
        return ExprCode(self, ctx, refs, placeholders).emit(expression.tree)

    # -- run(state, at_ns) -----------------------------------------------------------------------
    def runner(self) -> None:
        v, src = self.version, self.src
        with src.block("def run(state, at_ns):"):
            src.line("(STATE,) = state")
            planned = stages(v)
            self.kept = kept_outside(v, planned)
            placed = place_checks(v, planned)
            for n, (scope, formulas) in enumerate(planned):
                self._stage(scope, formulas, [v.conditions[i] for i in placed.get(n, ())])
                src.line("if monotonic_ns() > at_ns: raise BAIL")
            src.line("warnings = []")
            src.line("violations = []")
            for i, cond in enumerate(v.conditions):
                if not any(i in found for found in placed.values()):
                    self._condition(cond)
            root = Context(v.root, None, statements=False)
            src.line(f"result = {self._result(v.result, root)}")
            src.line("return result, warnings")

    def _stage(self, scope, formulas, checks=()) -> None:
        """One loop over the items of scope computing formulas (their values locals, kept in
        columns where something else reads them), then the facts conditions (checks) whose
        values are all computed by then. The columns it reads are zipped, not indexed."""
        src = self.src
        if scope.qualified == "":
            for f in formulas:
                src.line(f"v_{f.name} = {self.expression(f.part('expr'), f.refs, Context(scope))}")
            for cond in checks:
                self._check(cond, Context(scope))
            return
        kept = [f for f in formulas if (f.scope, f.name) in self.kept]
        for f in kept:
            src.line(f"{self.col(scope, f.name)} = []")
            src.line(f"ap_{f.name} = {self.col(scope, f.name)}.append")
        local: set = set()
        columns: dict = {}
        header = len(src.lines)
        src.line("")
        src.depth += 1
        for f in formulas:
            code = self.expression(f.part("expr"), f.refs, Context(scope, "i", frozenset(local), columns=columns))
            src.line(f"x_{f.name} = {code}")
            if f in kept:
                src.line(f"ap_{f.name}(x_{f.name})")
            local.add(f.name)
        for cond in checks:
            self._check(cond, Context(scope, "i", frozenset(local), columns=columns))
        src.line("pass")
        src.depth -= 1
        names = list(columns)   # (the time limit: checked after the loop; read() checks it as it goes)
        indexed = any(re.search(r"\bi\b", line) for line in src.lines[header + 1:])
        ys = ", ".join(f"y_{n}" for n in names)
        if not names:
            loop = f"for i in range({self.n(scope)}):"
        elif len(names) == 1:
            loop = f"for i, {ys} in enumerate({columns[names[0]]}):" if indexed else f"for {ys} in {columns[names[0]]}:"
        else:
            zipped = f"zip({', '.join(columns.values())})"
            loop = f"for i, ({ys}) in enumerate({zipped}):" if indexed else f"for {ys} in {zipped}:"
        src.lines[header] = "    " * src.depth + loop

    def _check(self, cond, ctx) -> None:
        """A facts condition: where it holds, the interpreter says so (Bail)."""
        self.src.line(f"if {self.expression(cond.when, cond.refs, ctx)}: raise BAIL")

    @property
    def shows_violations(self) -> bool:
        """Does a result field show the violations themselves (their items and messages)?"""
        def walk(fields):
            return any(f.kind == "violations" or walk(f.fields) for f in fields)
        return walk(self.version.result)

    @staticmethod
    def _safe_message(cond) -> bool:
        """A message that cannot fail: each field a name or a constant, shown plainly."""
        return all(type(e.tree).__name__ in ("Name", "Constant") and not spec for _t, e, _r, spec in cond.message_fields)

    def _items(self, scope):
        """A block over the items of scope (the top level: once)."""
        if scope.qualified == "":
            return self.src.block("if True:")
        return self.src.block(f"for i in range({self.n(scope)}):")

    def _condition(self, cond) -> None:
        src, v = self.src, self.version
        if cond.when is None:
            raise Unsupported("a condition without 'when'")
        scope = v.scopes[cond.scope]
        ctx = Context(scope, None if scope.qualified == "" else "i")
        with self._items(scope):
            when = self.expression(cond.when, cond.refs, ctx)
            if cond.severity == "facts":
                src.line(f"if {when}: raise BAIL")
                return
            with src.block(f"if {when}:"):
                if cond.severity == "violation" and not self.shows_violations and self._safe_message(cond):
                    src.line(f"violations.append({{'code': {cond.code!r}}})")   # no result shows its message
                    return
                parts = []
                for part in cond.message_parts:
                    if isinstance(part, str):
                        parts.append(src.const(part))
                    else:
                        _text, expression, refs, spec = cond.message_fields[part]
                        parts.append(self._field(expression, refs, spec, ctx))
                src.line(f"m = {' + '.join(parts) or repr('')}")
                if cond.severity == "warning":
                    src.line(f"w = {{'code': {cond.code!r}, 'message': m}}")
                    if scope.qualified:   # the item's JSON path, as engine.check.schema.json_path writes it
                        path = self._path_text(scope, "i") + (f" + {('.' + cond.path)!r}" if cond.path else "")
                        src.line(f"w['path'] = {path}")
                    elif cond.path:
                        src.line(f"w['path'] = {cond.path!r}")
                    src.line("warnings.append(w)")
                    return
                if cond.item is not None:
                    key = self.read(cond.item, ctx)
                elif scope.key:
                    key = f"{self.col(scope, scope.key)}[i]"
                else:
                    key = "None"
                src.line(f"key = {key}")
                src.line(f"violations.append({{'code': {cond.code!r}, 'item': JSON_SCALAR(key) if key is not None "
                         f"else None, 'message': m}})")

    def _round(self, value: str, f, t) -> str:
        """evaluate._round, inline for a decimal (never '-0.00'; too large to round raises)."""
        src = self.src
        if t is None or t.kind not in ("decimal", "integer"):
            return f"ROUND({value}, {src.const(f.rounding, 'RD')}, {f.key!r})"
        q = src.fresh("rq")
        number = value if t.kind == "decimal" else f"Decimal({value})"
        rounded = f"({q} if ({q} := {number}.quantize({src.const(f.rounding.quantum)}, " \
                  f"rounding={f.rounding.mode!r})) else {q}.copy_abs())"
        return f"(None if {value} is None else {rounded})" if t.optional else rounded

    def _field(self, expression, refs, spec, ctx) -> str:
        """A {field} of a message, as support.field writes it: a parameter's text is known
        when the rules load; text shown plainly is itself."""
        tree = expression.tree
        ref = {r.name: r for r in refs}.get(tree.id) if type(tree).__name__ == "Name" else None
        if ref is not None and ref.kind == "param":
            return self.src.const(support.field(self.version.parameters[ref.target].value, spec))
        code = self.expression(expression, refs, ctx)
        t = self.type_of(ref) if ref is not None else None
        if not spec and t is not None and t.kind == "text" and not t.optional:
            return f"({code} if type({code}) is str else FIELD({code}, ''))"
        return f"FIELD({code}, {spec!r})"

    def _path_text(self, scope, idx) -> str:
        """An expression of the JSON path text of item idx of scope (never empty: it is nested)."""
        parts = []
        while scope.qualified:
            k = self.sid[scope.qualified]
            place = f"'[' + str(q{k}[{idx}]) + ']'" if not scope.entries else f"'.' + str(q{k}[{idx}])"
            parts.insert(0, f"{'.'.join(scope.path)!r} + {place}")
            idx, scope = f"p{k}[{idx}]", scope.parent
        return " + '.' + ".join(parts)

    def _path(self, scope, idx) -> str:
        """The JSON path (a tuple) of the item idx of scope."""
        parts = []
        while scope.qualified:
            k = self.sid[scope.qualified]
            parts.insert(0, f"{self.src.const(tuple(scope.path))} + (q{k}[{idx}],)")
            idx, scope = f"p{k}[{idx}]", scope.parent
        return " + ".join(parts)

    def _result(self, fields, ctx: Context) -> str:
        src, out = self.src, []
        for f in fields:
            if f.kind == "value":
                value = self.read(f.ref, ctx)
                if f.rounding is not None:
                    value = self._round(value, f, self.type_of(f.ref))
            elif f.kind == "each":
                child = self.version.scopes[f.scope]
                j = src.fresh("r")
                if ctx.scope.qualified == "":
                    span = f"range({self.n(child)})"
                else:
                    o = f"o{self.sid[child.qualified]}"
                    span = f"range({o}[{ctx.idx}], {o}[{ctx.idx} + 1])"
                value = f"[{self._result(f.fields, Context(child, j, statements=False))} for {j} in {span}]"
            elif f.kind == "object":
                value = self._result(f.fields, ctx)
                if f.when is not None:
                    value = f"({value} if {self.read(f.when, ctx)} else None)"
            elif f.kind == "violation_codes":
                value = "list(dict.fromkeys(x['code'] for x in violations))"
            elif f.kind == "violations":
                value = f"[{{'code': x['code'], {f.item_key_as!r}: x['item'], 'message': x['message']}} for x in violations]"
            else:
                value = "not violations"
            out.append(f"{f.key!r}: {value}")
        return "{" + ", ".join(out) + "}"


def _globals(constants: dict) -> dict:
    g = {"Decimal": Decimal, "ZERO": Decimal(0), "DIGITS": frozenset("0123456789"), "BAIL": support.BAIL, "MISSING": _MISSING, "EMPTY": {}, "NUMBERS": (int, Decimal),
         "plain": support.plain, "str_ok": support.str_ok, "enum_ok": support.enum_ok, "format_ok": format_ok,
         "dig": _dig, "CONVERT": convert, "PLAIN": _PLAIN.match, "FIELD": support.field, "WHERE": support.where,
         "JSON_SCALAR": json_scalar, "AS_OF": support.as_of, "REMEMBER": support.remember, "INT_BOUND": support.INT_BOUND,
         "__builtins__": __builtins__}
    import json
    from datetime import date
    from time import monotonic_ns
    from ..report.decision import _json_default
    from ..run.evaluate import _round
    from ..values import plain_decimal
    g.update(monotonic_ns=monotonic_ns, ROUND=_round, date=date, PLAIN_DECIMAL=plain_decimal, ENCODE=json.encoder.encode_basestring,
             DUMPS=json.JSONEncoder(ensure_ascii=False, default=_json_default).encode)
    g.update(constants)
    return g


class _Missing:
    __slots__ = ()

    def __repr__(self):
        return "MISSING"


_MISSING = _Missing()


def _dig(obj, path):
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return _MISSING
        obj = obj[part]
    return obj


_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def _rule_names(version):
    """Every rule name the generated source writes as an identifier."""
    for scope in version.scopes.values():
        yield from scope.inputs
        yield from scope.formula_names
    yield from (f.name for f in version.plan)


def generate(version) -> dict:
    """{'source', 'read', 'run', 'state'} of the version's module, or {'unsupported': why}."""
    if version.facts_schema_doc is None or not version.schedule:
        return {"unsupported": "the version has no facts schema or no plan"}
    gen = Generator(version)
    try:
        gen.runner()
        run_text = gen.src.text()
        used = set(re.findall(r"\b[cpq][0-9]+(?:_\w+)?\b", run_text))
        gen.src = Source(gen.src.constants)
        gen.src._keys = {}
        state = reader(gen, used)
    except (Unsupported, SchemaUnsupported) as exc:
        return {"unsupported": str(exc)}
    run_text = run_text.replace("(STATE,) = state", f"({', '.join(state)},) = state")
    # the same reader without counting keys: for facts handed over as data (only a text's
    # keys can have been there twice)
    uncounted = re.sub(r"^(\s*)nk \+= len\([^\n]*\)$", r"\1pass", gen.src.text(), flags=re.M)
    uncounted = uncounted.replace("nk += plain(", "plain(").replace("def read(", "def read_uncounted(", 1)
    gen.src.line("")
    gen.src.lines += uncounted.rstrip("\n").split("\n")
    gen.src.line("")
    emitter(gen.src, version)
    head = [f"# generated from {version.path} ({version.policy} {version.version}, digest {version.digest})",
            "# by engine.compile.generate: read(facts) -> state, run(state, at_ns) -> (result, warnings)", ""]
    consts = [f"# {name} = {value!r}" for name, value in gen.src.constants.items()]
    source = "\n".join(head + consts + [""]) + gen.src.text() + "\n" + run_text
    # Only names go into the source as written (rule names, checked by the rule-file schema as
    # lower_snake_case, and the generator's own); every value (text, numbers, patterns, keys of
    # the facts) goes in by repr() or as a named constant. Checked here once more before exec.
    bad = [name for name in _rule_names(version) if not _NAME.fullmatch(name)]
    if bad:
        return {"unsupported": f"names that are not identifiers: {', '.join(map(repr, bad))}"}
    namespace = _globals(gen.src.constants)
    code = compile(source, f"<generated {version.policy} {version.version}>", "exec")
    exec(code, namespace)   # the module generated above from the checked plan: no text from a request
    return {"source": source, "read": namespace["read"], "read_uncounted": namespace["read_uncounted"],
            "run": namespace["run"], "state": state, "result_json": namespace["result_json"]}
