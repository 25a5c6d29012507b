"""Expressions: parsed once at load, checked against a whitelist, evaluated by simpleeval.

At parse time the Python AST is rewritten so that evaluation needs no guessing:
- number literals become Decimal from their source text (int stays int), never float;
- `collection.field` (a child collection's value for each item) becomes one name,
  looked up like any other;
- anything outside the whitelist (attributes of values, subscripts, lambdas,
  comprehensions, f-strings, keyword arguments, unknown functions) is refused.
"""
from __future__ import annotations

import ast
import operator
import warnings
from dataclasses import dataclass, field
from decimal import Decimal, DivisionByZero, InvalidOperation, Overflow

import simpleeval

from .errors import EvaluationError, did_you_mean
from .functions import CALLABLES, FUNCTIONS

MAX_LENGTH = 2000     # characters in one expression
MAX_NODES = 400       # AST nodes in one expression
MAX_EXPONENT = 100    # |b| in a ** b


class ExpressionSyntaxError(Exception):
    """A problem in an expression's text. `col` is 0-based within the text."""

    def __init__(self, message: str, col: int = 0):
        super().__init__(message)
        self.message = message
        self.col = col


def _to_decimal(v):
    return Decimal(v) if isinstance(v, int) and not isinstance(v, bool) else v


def _div(a, b):
    a, b = _to_decimal(a), _to_decimal(b)
    if b == 0:
        raise EvaluationError("division by zero", "arithmetic")
    return a / b


def _pow(a, b):
    if isinstance(b, bool) or not isinstance(b, (int, Decimal)) or b != int(b) or abs(b) > MAX_EXPONENT:
        raise EvaluationError(f"'**' takes a whole exponent of at most {MAX_EXPONENT}, found {b}", "arithmetic")
    return _to_decimal(a) ** int(b)


def _numbers(op, symbol):
    """Arithmetic on numbers only: true + 1 is a mistake in a rule, not 2."""
    def checked(*args):
        for v in args:
            if isinstance(v, bool) or not isinstance(v, (int, Decimal)):
                raise EvaluationError(f"'{symbol}' needs numbers, found {_kind(v)}", "type")
        return op(*args)
    return checked


def _kind(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return f"true/false ({'true' if v else 'false'})"
    if isinstance(v, str):
        return f"text {v!r}"
    if isinstance(v, (list, tuple)):
        return "a list"
    if isinstance(v, dict):
        return "a map"
    return type(v).__name__


OPERATORS = {
    ast.Add: _numbers(operator.add, "+"), ast.Sub: _numbers(operator.sub, "-"),
    ast.Mult: _numbers(operator.mul, "*"), ast.Div: _numbers(_div, "/"), ast.Pow: _numbers(_pow, "**"),
    ast.USub: _numbers(operator.neg, "-"), ast.UAdd: _numbers(operator.pos, "+"), ast.Not: operator.not_,
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}

_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp,
            ast.Call, ast.Name, ast.Constant, ast.Attribute, ast.Load,
            ast.And, ast.Or) + tuple(OPERATORS)


@dataclass(frozen=True)
class Expression:
    """A parsed, checked expression. `names` are the names it reads, in order of first use."""

    text: str
    tree: ast.AST
    names: tuple[str, ...]
    columns: tuple[int, ...] = ()    # 0-based column of each name's first use in `text`
    fn: object = field(default=None, compare=False, repr=False)   # the compiled closure

    def evaluate(self, names: dict):
        """The value, by the compiled closure (no parsing, little dispatch)."""
        try:
            return self.fn(names)
        except Exception as exc:  # the same errors as the reference, said the same way
            raise evaluation_error(exc, names) from None

    def bind(self, getters: dict):
        """A closure item -> value reading each name with its getter (name -> item -> value)."""
        return _compile(self.tree, getters)

    def evaluate_reference(self, evaluator: simpleeval.SimpleEval, names: dict):
        """The value by simpleeval: the reference semantics the compiled closure must match."""
        evaluator.names = names
        try:
            return evaluator.eval(self.text, previously_parsed=self.tree)
        except Exception as exc:
            raise evaluation_error(exc, names) from None


def evaluation_error(exc, names) -> EvaluationError:
    try:
        raise exc
    except EvaluationError:
        return exc
    except (DivisionByZero, ZeroDivisionError):
        return EvaluationError("division by zero", "arithmetic")
    except Overflow:
        return EvaluationError("a number grew beyond the decimal range", "arithmetic")
    except InvalidOperation:
        return EvaluationError("an invalid decimal operation (such as 0/0)", "arithmetic")
    except (TypeError, ValueError) as err:
        texts = [f"{k} is {_kind(v)}" for k, v in names.items()
                 if v is None or isinstance(v, (str, bool, list, tuple, dict))]
        detail = f" ({'; '.join(texts)})" if texts else ""
        return EvaluationError(f"values of the wrong kind{detail}: {err}", "type")
    except simpleeval.InvalidExpression as err:
        return EvaluationError(str(err), "type")
    except RecursionError:
        return EvaluationError("the expression nests too deeply")
    except KeyError as err:   # a name the closure was not given (the reference: NameNotDefined)
        return EvaluationError(f"'{err.args[0]}' is not defined", "type")


def _compile(node, lookup=None):
    """The rewritten, whitelisted AST as a closure over a names dict, or, given `lookup`
    (name -> getter), over an item: each name read straight from where it lives. Mirrors
    simpleeval's evaluation of the same tree (see evaluate_reference), operator for operator."""
    def sub(n):
        return _compile(n, lookup)

    if isinstance(node, ast.Constant):
        value = node.value
        return lambda n: value
    if isinstance(node, ast.Name):
        key = node.id
        if lookup is not None:
            return lookup[key]
        return lambda n: n[key]
    if isinstance(node, ast.BinOp):
        op, left, right = OPERATORS[type(node.op)], sub(node.left), sub(node.right)
        return lambda n: op(left(n), right(n))
    if isinstance(node, ast.UnaryOp):
        op, operand = OPERATORS[type(node.op)], sub(node.operand)
        return lambda n: op(operand(n))
    if isinstance(node, ast.BoolOp):
        values = [sub(v) for v in node.values]
        if isinstance(node.op, ast.And):
            def _and(n):
                result = False
                for v in values:
                    result = v(n)
                    if not result:
                        break
                return result
            return _and

        def _or(n):
            result = False
            for v in values:
                result = v(n)
                if result:
                    break
            return result
        return _or
    if isinstance(node, ast.Compare):
        first = sub(node.left)
        rest = [(OPERATORS[type(o)], sub(c)) for o, c in zip(node.ops, node.comparators)]
        if len(rest) == 1:
            (op, right), = rest
            return lambda n: op(first(n), right(n))

        def _chain(n):
            right_value, result = first(n), True
            for op, comp in rest:
                if not result:
                    break
                left_value, right_value = right_value, comp(n)
                result = op(left_value, right_value)
            return result
        return _chain
    if isinstance(node, ast.IfExp):
        test, body, orelse = sub(node.test), sub(node.body), sub(node.orelse)
        return lambda n: body(n) if test(n) else orelse(n)
    if isinstance(node, ast.Call):
        fn, args = CALLABLES[node.func.id], [sub(a) for a in node.args]
        if len(args) == 1:
            only = args[0]
            return lambda n: fn(only(n))
        return lambda n: fn(*[a(n) for a in args])
    raise ExpressionSyntaxError(f"{type(node).__name__} cannot be compiled")  # pragma: no cover


def new_evaluator() -> simpleeval.SimpleEval:
    """One evaluator per decision: simpleeval keeps `names` on the instance."""
    return simpleeval.SimpleEval(operators=OPERATORS, functions=CALLABLES, names={})


def parse(text: str, collections=frozenset()) -> Expression:
    """Parse and check `text`. `collections` are the child collections that may be read
    as `collection.field`. Raises ExpressionSyntaxError."""
    if not isinstance(text, str):
        text = str(text)
    if len(text) > MAX_LENGTH:
        raise ExpressionSyntaxError(f"expression is longer than {MAX_LENGTH} characters")
    try:
        with warnings.catch_warnings():   # Python's own hints ("invalid decimal literal") go
            warnings.simplefilter("ignore")   # to stderr otherwise; our message says what is wrong
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        col = (exc.offset or 1) - 1 + (len(text) - len(text.lstrip()))
        message = "a number is written without leading zeros" if "leading zeros" in str(exc.msg) else exc.msg
        raise ExpressionSyntaxError(f"invalid expression: {message}", col) from None
    lead = len(text) - len(text.lstrip())
    stripped = text.strip()
    names: list[tuple[str, int]] = []
    count = 0

    class Rewrite(ast.NodeTransformer):
        def generic_visit(self, node):
            nonlocal count
            count += 1
            if count > MAX_NODES:
                raise ExpressionSyntaxError(f"expression has more than {MAX_NODES} parts")
            if not isinstance(node, _ALLOWED):
                raise ExpressionSyntaxError(f"{_describe(node)} is not allowed in an expression",
                                            lead + getattr(node, "col_offset", 0))
            return super().generic_visit(node)

        def visit_Constant(self, node):
            value = node.value
            if isinstance(value, bool) or value is None or isinstance(value, str):
                return node
            if isinstance(value, (int, float)):
                # every number literal is a Decimal from its text: 0 and 0.0 behave alike
                source = ast.get_source_segment(stripped, node) or repr(value)
                if any(c in source for c in "eEjJ_xXoObB"):
                    raise ExpressionSyntaxError(f"write numbers in plain decimal notation, found {source}",
                                                lead + node.col_offset)
                return ast.copy_location(ast.Constant(Decimal(source)), node)
            raise ExpressionSyntaxError(f"literal {ast.get_source_segment(stripped, node)} is not allowed",
                                        lead + node.col_offset)

        def visit_BinOp(self, node):
            node = self.generic_visit(node)
            right = node.right
            if isinstance(node.op, ast.Div) and isinstance(right, ast.Constant) and not isinstance(right.value, (bool, str)) \
                    and right.value is not None and right.value == 0:
                raise ExpressionSyntaxError("division by zero: the divisor is the number 0", lead + right.col_offset)
            return node

        def visit_Attribute(self, node):
            if isinstance(node.value, ast.Name) and node.value.id in collections and not node.attr.startswith("_"):
                name = f"{node.value.id}.{node.attr}"
                names.append((name, lead + node.col_offset))
                return ast.copy_location(ast.Name(id=name, ctx=ast.Load()), node)
            if isinstance(node.value, ast.Name) and not node.attr.startswith("_"):
                raise ExpressionSyntaxError(
                    "'.' reads a field of a child collection (collection.field); "
                    f"'{ast.get_source_segment(stripped, node)}' is not one", lead + node.col_offset)
            raise ExpressionSyntaxError(f"attribute access ('.{node.attr}') is not allowed in an expression",
                                        lead + node.col_offset)

        def visit_Name(self, node):
            names.append((node.id, lead + node.col_offset))
            return node

        def visit_Call(self, node):
            if not isinstance(node.func, ast.Name):
                self.visit(node.func)   # a lambda or attribute says what it is
                raise ExpressionSyntaxError("only named functions can be called", lead + node.col_offset)
            if node.func.id not in FUNCTIONS:
                what = node.func.id
                hint = did_you_mean(what, FUNCTIONS)
                raise ExpressionSyntaxError(f"unknown function '{what}'" + (hint or f"; the functions are "
                                            f"{', '.join(sorted(FUNCTIONS))}"), lead + node.col_offset)
            if node.keywords:
                raise ExpressionSyntaxError("keyword arguments are not allowed", lead + node.col_offset)
            node.args = [self.visit(a) for a in node.args]
            return node

    tree = Rewrite().visit(tree)
    # simpleeval evaluates an expression body, not an ast.Expression wrapper
    body = tree.body
    first: dict[str, int] = {}
    for name, col in names:
        first.setdefault(name, col)
    return Expression(text=text.strip(), tree=body, names=tuple(first), columns=tuple(first.values()),
                      fn=_compile(body))


def _describe(node) -> str:
    kinds = {ast.Lambda: "a lambda", ast.Subscript: "indexing with [ ]", ast.JoinedStr: "an f-string",
             ast.ListComp: "a comprehension", ast.GeneratorExp: "a comprehension",
             ast.DictComp: "a comprehension", ast.SetComp: "a comprehension", ast.Dict: "a dict literal",
             ast.NamedExpr: "':='", ast.Starred: "'*'", ast.Set: "a set literal", ast.List: "a list literal",
             ast.Tuple: "a tuple", ast.Await: "await", ast.Yield: "yield"}
    for kind, text in kinds.items():
        if isinstance(node, kind):
            return text
    symbols = {ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
               ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.Invert: "~", ast.Is: "is", ast.IsNot: "is not"}
    if type(node) in symbols:
        return f"operator '{symbols[type(node)]}'"
    if isinstance(node, ast.operator) or isinstance(node, ast.cmpop):
        return f"operator {type(node).__name__}"
    return type(node).__name__
