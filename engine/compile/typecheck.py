"""Type inference for expressions: what an expression gives, and every misuse of a value
found when the rules load (arithmetic on text, a comparison of a date with a number, a
function given the wrong number or kinds of arguments, a value that can be null where one
is needed).

Null-safety is checked with narrowing, as typed languages do it: `x != None and x > 1`,
`x * 2 if x != None else 0`, and a boolean formula that is itself such a test
(`has_transfer: transfer_amount != None`) make `x` a value where the test holds.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from decimal import Decimal

from .. import types as T
from .functions import SIGNATURES
from .signatures import match, never, signature, substitute, usage

SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.USub: "-", ast.UAdd: "+",
           ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.In: "in",
           ast.NotIn: "not in", ast.And: "and", ast.Or: "or", ast.Not: "not"}


@dataclass(frozen=True)
class Binding:
    """What a name in an expression stands for: its identity (for narrowing), its type, and
    how a message describes it ("parameter 'cap' (the text "100k")")."""

    key: tuple
    type: T.Type
    shown: str
    value: object = None       # a parameter's value (known when the rules load), else None


@dataclass
class Inferred:
    type: T.Type
    errors: list = field(default_factory=list)      # (column in the text, message)
    nonnull_if_true: frozenset = frozenset()         # keys a true value proves non-null
    nonnull_if_false: frozenset = frozenset()


def infer(tree, text: str, lookup, owner: str, guards=None, call=None, narrowed=frozenset()) -> Inferred:
    """The type of an expression (its rewritten AST and text). lookup(name) -> Binding or
    None; guards: key -> (keys non-null when it is true, when it is false); call(name,
    argument types) -> (type, problems) types a call of a table or tiers; narrowed: keys
    known not to be null here."""
    checker = _Checker(text, lookup, owner, guards or {}, call)
    t = checker.infer(tree, frozenset(narrowed))
    return Inferred(t, checker.errors, checker.nonnull(tree, True), checker.nonnull(tree, False))


class _Checker:
    def __init__(self, text, lookup, owner, guards, call=None):
        self.text, self.lookup, self.owner, self.guards, self.call = text, lookup, owner, guards, call
        self.errors: list = []

    def error(self, node, message):
        self.errors.append((getattr(node, "col_offset", 0), f"{self.owner}: {message}"))

    # -- how a value is described in a message --------------------------------------------
    def describe(self, node, t: T.Type) -> str:
        if isinstance(node, ast.Name):
            b = self.lookup(node.id)
            return b.shown if b else f"'{node.id}'"
        if isinstance(node, ast.Constant):
            return T.shown_value(node.value) if node.value is not None else "None"
        segment = ast.get_source_segment(self.text, node) or ""
        segment = re.sub(r"\s+", " ", segment)
        return (f"'{segment}' ({T.show(t)})" if len(segment) <= 40 else f"a value of type {T.show(t)}")

    def known(self, node):
        """The value of a number literal or a number parameter, known when the rules load."""
        if isinstance(node, ast.Constant) and isinstance(node.value, Decimal):
            return node.value
        if isinstance(node, ast.Name):
            b = self.lookup(node.id)
            return b.value if b is not None and isinstance(b.value, Decimal) else None
        return None

    def name_of(self, node) -> str:
        return node.id if isinstance(node, ast.Name) else (ast.get_source_segment(self.text, node) or "the value")

    # -- narrowing: which names a test proves non-null --------------------------------------
    def nonnull(self, node, truth: bool) -> frozenset:
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, right, op = node.left, node.comparators[0], type(node.ops[0])
            other = left if _is_none(right) else right if _is_none(left) else None
            if isinstance(other, ast.Name) and (op is ast.NotEq and truth or op is ast.Eq and not truth):
                b = self.lookup(other.id)
                return frozenset([b.key]) if b else frozenset()
            return frozenset()
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And) and truth or \
                isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and not truth:
            out = frozenset()
            for v in node.values:
                out |= self.nonnull(v, truth)
            return out
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self.nonnull(node.operand, not truth)
        if isinstance(node, ast.Name):
            b = self.lookup(node.id)
            if b and b.key in self.guards:
                return self.guards[b.key][0 if truth else 1]
        return frozenset()

    # -- inference ----------------------------------------------------------------------------
    def infer(self, node, narrowed: frozenset) -> T.Type:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:   # pragma: no cover - the parser allows nothing else
            return T.ANY
        return method(node, narrowed)

    def _Constant(self, node, narrowed):
        v = node.value
        if v is None:
            return T.NULL
        if isinstance(v, bool):
            return T.BOOLEAN
        if isinstance(v, (int, Decimal)):
            return T.DECIMAL
        return T.text_of(v)

    def _Name(self, node, narrowed):
        b = self.lookup(node.id)
        if b is None:
            return T.ANY   # reported by name resolution
        return T.required(b.type) if b.key in narrowed else b.type

    def number(self, node, t, op) -> bool:
        """Check that an operand is a number that cannot be null."""
        if t.kind == "any":
            return True
        if t.kind == "null":
            self.error(node, f"'{op}' needs numbers, not None")
            return False
        if not T.is_number(t):
            self.error(node, f"'{op}' needs numbers, not {self.describe(node, t)}")
            return False
        if t.optional:
            name = self.name_of(node)
            self.error(node, f"'{op}' needs a number, but {self.describe(node, t)} can be null; "
                             f"test it first ({name} != None and ...)")
            return False
        return True

    def _BinOp(self, node, narrowed):
        op = SYMBOLS[type(node.op)]
        left, right = self.infer(node.left, narrowed), self.infer(node.right, narrowed)
        ok = self.number(node.left, left, op)
        ok = self.number(node.right, right, op) and ok
        if not ok or T.ANY in (left, right):
            return T.ANY if not ok else T.DECIMAL
        if op in ("+", "-", "*") and left.kind == right.kind == "integer":
            return T.INTEGER
        return T.DECIMAL

    def _UnaryOp(self, node, narrowed):
        t = self.infer(node.operand, narrowed)
        if isinstance(node.op, ast.Not):
            self.boolean(node.operand, t, "not")
            return T.BOOLEAN
        return T.unbounded(t) if self.number(node.operand, t, SYMBOLS[type(node.op)]) else T.ANY

    def boolean(self, node, t, op) -> bool:
        if t.kind in ("any", "boolean") and not t.optional:
            return True
        if t.kind == "boolean":
            self.error(node, f"'{op}' needs true or false, but {self.describe(node, t)} can be null")
        else:
            self.error(node, f"'{op}' needs true or false, not {self.describe(node, t)}")
        return False

    def _BoolOp(self, node, narrowed):
        op = "and" if isinstance(node.op, ast.And) else "or"
        for value in node.values:
            self.boolean(value, self.infer(value, narrowed), op)
            narrowed = narrowed | self.nonnull(value, op == "and")
        return T.BOOLEAN

    def _IfExp(self, node, narrowed):
        self.boolean(node.test, self.infer(node.test, narrowed), "if")
        body = self.infer(node.body, narrowed | self.nonnull(node.test, True))
        orelse = self.infer(node.orelse, narrowed | self.nonnull(node.test, False))
        joined = T.join(body, orelse)
        if joined is None:
            self.error(node, f"the two branches of 'if ... else' give different kinds of value: "
                             f"{self.describe(node.body, body)} and {self.describe(node.orelse, orelse)}")
            return T.ANY
        return joined

    def _Compare(self, node, narrowed):
        left_node, left = node.left, self.infer(node.left, narrowed)
        for op_node, right_node in zip(node.ops, node.comparators):
            right = self.infer(right_node, narrowed)
            self.compare(SYMBOLS[type(op_node)], left_node, left, right_node, right)
            left_node, left = right_node, right
        return T.BOOLEAN

    def compare(self, op, ln, lt, rn, rt):
        if T.ANY in (lt, rt) or lt.kind == "any" or rt.kind == "any":
            return
        # a month is text "YYYY-MM": it compares with a literal month written as text
        lt, rt = _as_month(lt, rn, rt), _as_month(rt, ln, lt)
        if op in ("in", "not in"):
            if rt.kind not in ("list", "map") or rt.optional:
                self.error(rn, f"'{op}' needs a list or a map on its right, not {self.describe(rn, rt)}")
                return
            item = rt.args[0]
            if T.join(T.required(lt), item) is None:
                self.error(ln, f"'{op}': {self.describe(ln, lt)} is never an item of {self.describe(rn, rt)}")
            elif never(item, lt):
                values, _, other, _side = never(item, lt)
                self.error(ln, f"'{op}': {', '.join(chr(34) + v + chr(34) for v in values)} can never match, the "
                               f"values on the other side are {T.show(other)}" + _did_you_mean(values[0], other.values))
            return
        if op in ("==", "!="):
            if _is_none(ln) or _is_none(rn):
                other, ot = (rn, rt) if _is_none(ln) else (ln, lt)
                if not ot.optional and ot.kind != "null":
                    self.error(other, f"{self.describe(other, ot)} is never null, so '{op} None' is always "
                                      f"{'false' if op == '==' else 'true'}")
                return
            joined = T.join(T.required(lt), T.required(rt))
            if joined is None:
                self.error(ln, f"'{op}' compares {self.describe(ln, lt)} with {self.describe(rn, rt)}, "
                               "which are never equal")
            elif lt.kind == rt.kind == "text" and lt.values is not None and rt.values is not None \
                    and not lt.values & rt.values:
                literal, other, ot = (rn, ln, lt) if isinstance(rn, ast.Constant) else (ln, rn, rt)
                if isinstance(literal, ast.Constant):
                    self.error(literal, f"{self.describe(other, ot)} is never {T.shown_value(literal.value)}"
                                        + _did_you_mean(literal.value, ot.values))
                else:
                    self.error(ln, f"'{op}' compares {self.describe(ln, lt)} with {self.describe(rn, rt)}, "
                                   "which have no value in common")
            return
        # ordering: numbers with numbers, or text, dates, months each with their own kind
        for n, t in ((ln, lt), (rn, rt)):
            if t.kind not in T.ORDERED:
                self.error(n, f"'{op}' compares values that have an order (numbers, text, dates, months), "
                              f"not {self.describe(n, t)}")
                return
        if not (T.is_number(lt) and T.is_number(rt)) and lt.kind != rt.kind:
            self.error(ln, f"'{op}' compares {self.describe(ln, lt)} with {self.describe(rn, rt)}")
            return
        for n, t in ((ln, lt), (rn, rt)):
            if t.optional:
                self.error(n, f"'{op}' needs a value, but {self.describe(n, t)} can be null; test it first "
                              f"({self.name_of(n)} != None and ...)")
                return

    def _Call(self, node, narrowed):
        name = node.func.id
        args = [self.infer(a, narrowed) for a in node.args]
        if name not in SIGNATURES:   # a table or tiers of the rule file
            if self.call is None:
                return T.ANY
            t, problems = self.call(name, args)
            for problem in problems:
                self.error(node, f"{name}(): {problem}")
            return t
        signatures = [signature(s) for s in SIGNATURES[name]]
        fitting = [s for s in signatures if s.fits(len(args))]
        if not fitting:
            shown = " or ".join(f"{name}{s.text}" for s in signatures)
            counts = sorted({s.arity_text() for s in signatures})
            self.error(node, f"{name}() takes {' or '.join(counts)}, found {len(args)}: {shown}")
            return T.ANY
        sig = fitting[0]
        bindings: dict = {}
        for i, (arg_node, arg) in enumerate(zip(node.args, args)):
            want = sig.param(i)
            problem = match(want, arg, bindings)
            if problem and problem[1] == "never":
                values, _, other, side = problem
                where = arg_node if side == "second" else node.args[0]
                never = ", ".join(f'"{v}"' for v in values)
                within = "" if isinstance(where, ast.Constant) else \
                    f" in {self.describe(where, args[node.args.index(where)])}"
                self.error(where, f"{name}(): {never}{within} can never match: the values it is matched with are "
                                  f"{T.show(other)}"
                                  + _did_you_mean(values[0], other.values))
                return T.ANY
            if not problem and isinstance(want, tuple) and want[0] == "positive":
                known = self.known(arg_node)
                if known is not None and known <= 0:
                    self.error(arg_node, f"{name}(){_nth(i, len(args))} must be above 0, and "
                                         f"{self.describe(arg_node, arg)} is {T.shown_value(known)} ({usage(name, sig)})")
                    return T.ANY
            if problem:
                self.error(arg_node, f"{name}(){_nth(i, len(args))} needs {problem[0]}, "
                                     f"{'but' if problem[1] == 'null' else 'not'} "
                                     f"{self.describe(arg_node, arg)}{' can be null' if problem[1] == 'null' else ''}"
                                     f" ({usage(name, sig)})")
                return T.ANY
        return T.unbounded(substitute(sig.result, bindings))   # abs(x), max(a, b): not within x's bounds


def _as_month(t, other_node, other_type):
    """A text literal that is a month, compared with a month, is a month."""
    if other_type.kind == "month" and t.kind == "text" and t.values and len(t.values) == 1 \
            and re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", next(iter(t.values))):
        return T.Type("month", optional=t.optional)
    return t


def _is_none(node) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _did_you_mean(value, values) -> str:
    import difflib
    close = difflib.get_close_matches(str(value), sorted(values), n=1, cutoff=0.6)
    return f"; did you mean \"{close[0]}\"?" if close else f" (it is one of {', '.join(sorted(values))})"


def _nth(i: int, count: int) -> str:
    return "" if count == 1 else f"'s {['first', 'second', 'third', 'fourth'][i] if i < 4 else f'{i + 1}th'} argument"


__all__ = ["Binding", "Inferred", "infer"]
