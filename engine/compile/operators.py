"""How an expression computes: the operators over Decimals (shared by the compiled closures
and the simpleeval reference), the closures compiled from a checked AST, and the error a
failed evaluation becomes."""
from __future__ import annotations

import ast
import operator
from decimal import Decimal, DivisionByZero, InvalidOperation, Overflow

import simpleeval

from ..errors import EvaluationError
from .functions import CALLABLES

MAX_EXPONENT = 100    # |b| in a ** b


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


def _compile(node, lookup=None, callables=None, placeholders=None):
    """The rewritten, whitelisted AST as a closure over a names dict, or, given `lookup`
    (name -> getter), over an item: each name read straight from where it lives. Mirrors
    simpleeval's evaluation of the same tree (see evaluate_reference), operator for operator.
    A call of a rule callable (a decision table, tiers) gets the item too."""
    def sub(n):
        return _compile(n, lookup, callables, placeholders)

    if isinstance(node, ast.Constant):
        value = node.value
        return lambda n: value
    if isinstance(node, ast.Name):
        key = (placeholders or {}).get(node.id, node.id)
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
        args = [sub(a) for a in node.args]
        if node.func.id not in CALLABLES:   # a rule callable: it may evaluate expressions for the item
            rule_fn = (callables or {})[node.func.id]
            return lambda n: rule_fn(n, *[a(n) for a in args])
        fn = CALLABLES[node.func.id]
        if len(args) == 1:
            only = args[0]
            return lambda n: fn(only(n))
        return lambda n: fn(*[a(n) for a in args])
    raise ValueError(f"{type(node).__name__} cannot be compiled")  # pragma: no cover - parse admits nothing else
