"""Expressions as Python source, for generated decision code (engine.compile.generate).

The source computes what the interpreter's closures compute, operator for operator: an
operator is written as plain Python only where the static types say both sides are
numbers (so Python's own operator is the interpreter's), and as the interpreter's checked
operator otherwise. Functions are the interpreter's own (engine.compile.functions).
Decision tables are written inline as if/elif over their typed rows; other rule callables
(tiers) are called as the interpreter binds them.
"""
from __future__ import annotations

import ast
from decimal import Decimal

from .. import types as T
from ..kinds import CALLABLE_KINDS
from ..kinds.binding import _aggregate, literal
from .functions import CALLABLES, SIGNATURES
from .signatures import match, signature, substitute
from .operators import OPERATORS


class Unsupported(Exception):
    """Generated code cannot say this; the version is decided by the interpreter alone."""


class Context:
    """Where an expression is evaluated: its scope, the index of its item in that scope's
    columns (None at the top level), the formulas whose values are locals there, and
    whether statements may go before it (a table's if/elif)."""

    def __init__(self, scope, idx=None, local=frozenset(), statements=True, columns=None):
        self.scope, self.idx, self.local, self.statements = scope, idx, local, statements
        self.columns = columns   # a loop over zipped columns: the columns of its scope it reads (as y_name)


_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.In: "in",
        ast.NotIn: "not in"}
# functions of one date, month, whole number or text whose value depends on it alone:
# remembered per call site (a list is copied out, so no caller shares one)
MEMO_FUNCTIONS = {"days_in_month": "value", "end_of_month": "value", "month_of": "value", "days_of": "list"}
_INLINE = {"has": "({1} in {0})", "contains": "({1} in {0})", "count": "len({0})", "any": "any({0})",
           "all": "all({0})"}


class ExprCode:
    def __init__(self, gen, ctx: Context, refs, placeholders=None):
        self.gen, self.ctx = gen, ctx
        self.refs = {r.name: r for r in refs}
        self.placeholders = placeholders or {}
        self.consumed: set = set()   # id() of nodes whose value a function only reads (a remembered list need not be copied)

    # -- names -----------------------------------------------------------------------------------
    def name(self, node: ast.Name) -> str:
        key = self.placeholders.get(node.id, node.id)
        ref = self.refs.get(key)
        if ref is None:
            raise Unsupported(f"name {node.id}")
        return self.gen.read(ref, self.ctx)

    def number(self, node) -> bool:
        """Known, when the rules load, to be an integer or a decimal (never null, never true/false)."""
        t = self.type_of(node)
        return t is not None and t.kind in ("decimal", "integer") and not t.optional

    def type_of(self, node):
        if isinstance(node, ast.Constant):
            return T.DECIMAL if isinstance(node.value, Decimal) else None
        if isinstance(node, ast.Name):
            ref = self.refs.get(self.placeholders.get(node.id, node.id))
            return self.gen.type_of(ref) if ref is not None else None
        if isinstance(node, ast.BinOp) and type(node.op) in (ast.Add, ast.Sub, ast.Mult):
            left, right = self.type_of(node.left), self.type_of(node.right)
            if self.number(node.left) and self.number(node.right):
                return T.INTEGER if left.kind == right.kind == "integer" else T.DECIMAL
            return None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return T.DECIMAL if self.number(node.left) and self.number(node.right) else None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return self.type_of(node.operand) if self.number(node.operand) else None
        if isinstance(node, ast.Call) and node.func.id in SIGNATURES:
            return _call_type(node.func.id, [self.type_of(a) or T.ANY for a in node.args])
        if isinstance(node, ast.IfExp) and self.number(node.body) and self.number(node.orelse):
            a, b = self.type_of(node.body), self.type_of(node.orelse)
            return T.INTEGER if a.kind == b.kind == "integer" else T.DECIMAL
        return None

    # -- nodes -----------------------------------------------------------------------------------
    def emit(self, node) -> str:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise Unsupported(type(node).__name__)
        return method(node)

    def _Constant(self, node):
        return self.gen.src.const(node.value)

    def _Name(self, node):
        return self.name(node)

    def _BinOp(self, node):
        left, right = self.emit(node.left), self.emit(node.right)
        op = type(node.op)
        plain = self.number(node.left) and self.number(node.right)
        if op is ast.Div:   # Decimal / number is the interpreter's division (0 raises either way)
            lt = self.type_of(node.left)
            plain = plain and lt.kind == "decimal"
        if plain and op is not ast.Pow:
            return f"({left} {_SYMBOL[op]} {right})"
        return f"{self.gen.src.const(OPERATORS[op], 'OP')}({left}, {right})"

    def _UnaryOp(self, node):
        operand = self.emit(node.operand)
        if isinstance(node.op, ast.Not):
            return f"(not {operand})"
        if self.number(node.operand):
            return f"({'-' if isinstance(node.op, ast.USub) else '+'}{operand})"
        return f"{self.gen.src.const(OPERATORS[type(node.op)], 'OP')}({operand})"

    def _BoolOp(self, node):
        word = " and " if isinstance(node.op, ast.And) else " or "
        return "(" + word.join(self.emit(v) for v in node.values) + ")"

    def _Compare(self, node):
        parts = [self.emit(node.left)]
        for op, comp in zip(node.ops, node.comparators):
            parts += [_CMP[type(op)], self.emit(comp)]
        return "(" + " ".join(parts) + ")"

    def _IfExp(self, node):
        # a table in a branch is decided before the test (its if/elif are statements): it is
        # pure, so only a table with no row for those values (Bail) can tell the difference
        return f"({self.emit(node.body)} if {self.emit(node.test)} else {self.emit(node.orelse)})"

    def _Call(self, node):
        name = node.func.id
        if name in CALLABLES:   # a function reads its list arguments, and never gives one back as it is
            self.consumed.update(id(a) for a in node.args)
        args = [self.emit(a) for a in node.args]
        if name in CALLABLES:
            if name == "sum" and len(args) == 1 and self._is_list(node.args[0]):
                return f"sum({args[0]}, ZERO)"
            if name == "get" and self._is_map(node.args[0]):   # a dict: [k] raises where _get would
                return f"{args[0]}[{args[1]}]" if len(args) == 2 else f"{args[0]}.get({args[1]}, {args[2]})"
            if name in MEMO_FUNCTIONS and len(args) == 1 and self._scalar(node.args[0]):
                memo, fn, a = self.gen.src.const({}, "MEMO"), self.gen.src.const(CALLABLES[name], "F"), args[0]
                copy = "list" if MEMO_FUNCTIONS[name] == "list" and id(node) not in self.consumed else ""
                # a value remembered as false (none of these give one) would only be computed again
                found = f"{memo}.get({a})"
                return f"({copy}({found} or REMEMBER({memo}, {fn}({a}), {a}, True)))" if copy else \
                    f"({found} or REMEMBER({memo}, {fn}({a}), {a}, True))"
            if name in _INLINE and len(args) == _INLINE[name].count("{"):
                return _INLINE[name].format(*args)
            return f"{self.gen.src.const(CALLABLES[name], 'F')}({', '.join(args)})"
        site = self.gen.version.call_sites.get((self.ctx.scope.qualified, name))
        if site is None:
            raise Unsupported(f"call {name}")
        if site["kind"] == "table":
            return self._table(site, args)
        if site["kind"] == "tiers" and self.ctx.statements:
            return self._tiers(site["tiers"], args[0])
        fn = CALLABLE_KINDS[site["kind"]].bind(site, None)   # tiers: the interpreter's own callable
        return f"{self.gen.src.const(fn, 'RC')}(None, {', '.join(args)})"

    def _is_map(self, node) -> bool:
        t = self.type_of(node)
        return t is not None and t.kind == "map" and not t.optional

    def _scalar(self, node) -> bool:
        t = self.type_of(node)
        return t is not None and t.kind in ("date", "month", "integer", "text") and not t.optional

    def _is_list(self, node) -> bool:
        if isinstance(node, ast.Name):
            ref = self.refs.get(self.placeholders.get(node.id, node.id))
            if ref is not None and ref.kind == "child":
                return True
        t = self.type_of(node)
        return t is not None and t.kind == "list" and not t.optional

    # -- a decision table, inline ----------------------------------------------------------------------
    def _table(self, site, args) -> str:
        if not self.ctx.statements:
            raise Unsupported("a table called where no statement can go")
        src = self.gen.src
        names = []
        for a in args:
            local = src.fresh("a")
            src.line(f"{local} = {a}")
            names.append(local)
        value = src.fresh("tv")
        if not _rememberable(site):
            self._rows(site, names, value)
            return value
        # text in, values out: the row found for these values is remembered (a few thousand at most)
        memo, key = src.const({}, "MEMO"), f"({', '.join(names)},)"
        src.line(f"{value} = {memo}.get({key}, MISSING)")
        with src.block(f"if {value} is MISSING:"):
            self._rows(site, names, value)
            src.line(f"REMEMBER({memo}, {value}, {key}, True)")
        return value

    def _rows(self, site, names, value) -> None:
        """The table's rows as if/elif, the output found assigned to value."""
        src, table, out = self.gen.src, site["table"], site["output"]
        collect = table.hit == "collect"
        if collect:
            src.line(f"{value} = []")
        first = True
        for i, (tests, outputs) in enumerate(site["rows"]):
            cond = " and ".join(c for c in (_test(src, t, n) for t, n in zip(tests, names)) if c != "True") or "True"
            cell = self._cell(site, (i, out), outputs[out])
            if collect:
                with src.block(f"if {cond}:"):
                    src.line(f"{value}.append({cell})")
                continue
            with src.block(f"{'if' if first else 'elif'} {cond}:"):
                src.line(f"{value} = {cell}")
            first = False
            if cond == "True":
                return
        if collect:
            if table.has_default and table.aggregate in ("min", "max"):
                with src.block(f"if not {value}:"):
                    if table.warn_default:
                        src.line("raise BAIL")
                    else:
                        src.line(f"{value} = [{self._cell(site, ('default', 0), table.default[0])}]")
            src.line(f"{value} = {src.const(_aggregate, 'AGG')}({src.const(table, 'TB')}, {value})")
            return
        with src.block("else:"):
            if not table.has_default or table.warn_default:   # an error, or a warning: the interpreter's
                src.line("raise BAIL")
            else:
                src.line(f"{value} = {self._cell(site, ('default', out), table.default[out])}")

    def _tiers(self, tiers, amount: str) -> str:
        """Marginal tiers inline: kinds.tiers.marginal's sum, band by band, the same operations."""
        src = self.gen.src
        a, total = src.fresh("a"), src.fresh("tv")
        src.line(f"{a} = {amount}")
        src.line(f"if type({a}) not in NUMBERS: raise BAIL")   # null, true/false: the interpreter's error
        src.line(f"{total} = ZERO")
        for row in tiers.rows:
            top = a if row.high is None else f"min({a}, {src.const(row.high)})"
            src.line(f"{total} += max(ZERO, {top} - {src.const(row.low)}) * {src.const(row.rate)}")
        return total

    def _cell(self, site, slot, output) -> str:
        if output.expression is None:
            return self.gen.src.const(literal(output.value))
        expression, refs = site["exprs"][slot]
        return self.gen.expression(expression, refs, self.ctx)


def _rememberable(site) -> bool:
    """A table whose answer depends on text alone (its columns text, months or dates; its
    outputs values, not expressions): the same arguments find the same row."""
    table, out = site["table"], site["output"]
    cells = [outputs[out] for _tests, outputs in site["rows"]] + list(table.default[out:out + 1])
    return table.hit != "collect" and all(c.expression is None for c in cells) \
        and all(t.kind in ("text", "month", "date") for t in site["columns"])


def _call_type(name, arg_types):
    """The result type of a function called with these argument types (None: not known)."""
    for text in SIGNATURES[name]:
        sig = signature(text)
        if not sig.fits(len(arg_types)):
            continue
        bindings: dict = {}
        if any(match(sig.param(i), t, bindings) for i, t in enumerate(arg_types)):
            return None
        result = substitute(sig.result, bindings)
        return None if result.kind == "any" else result
    return None


def _test(src, t, a: str) -> str:
    """A table cell's test (engine.kinds.cells.Test.matches) as an expression of a."""
    kind = t.kind
    if kind == "any":
        return "True"
    if kind == "null":
        return f"{a} is None"
    if kind == "eq" and isinstance(t.value, str):   # only text equals text
        return f"{a} == {src.const(t.value)}"
    if kind == "eq":
        is_bool = isinstance(t.value, bool)
        return f"({a} is not None and {a} == {src.const(t.value)} and type({a}) is {'' if is_bool else 'not '}bool)"
    if kind == "in":
        if all(isinstance(x, str) for x in t.value):
            return f"{a} in {src.const(frozenset(t.value))}"
        alts = " or ".join(f"({a} == {src.const(x)} and type({a}) is {'' if isinstance(x, bool) else 'not '}bool)"
                           for x in t.value)
        return f"({a} is not None and ({alts}))"
    if kind == "cmp":
        return f"({a} is not None and {a} {t.op} {src.const(t.value)})"
    lo = f"{a} {'>=' if t.lo_closed else '>'} {src.const(t.lo)}"
    hi = f"{a} {'<=' if t.hi_closed else '<'} {src.const(t.hi)}"
    return f"({a} is not None and {lo} and {hi})"
