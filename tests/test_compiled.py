"""Compiled expressions agree with simpleeval (the reference semantics) on random
expressions and values, errors included."""
import decimal
from decimal import Decimal

from hypothesis import given, settings, strategies as st

from engine.errors import EvaluationError
from engine.run.evaluate import CONTEXT
from engine.compile.expressions import ExpressionSyntaxError, new_evaluator, parse

NAMES = ["a", "b", "c", "flag", "label"]
numbers = st.one_of(st.integers(-1000, 1000).map(str),
                    st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False).map(lambda d: format(d, "f")))
leaf = st.one_of(numbers, st.sampled_from(NAMES), st.sampled_from(["True", "False", "None", "'x'"]))


def combine(children):
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "**", "<", "<=", "==", "!=", ">", ">=",
                                                  "and", "or"]), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    unary = st.tuples(st.sampled_from(["-", "not "]), children).map(lambda t: f"({t[0]}{t[1]})")
    ifexp = st.tuples(children, children, children).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})")
    call = st.tuples(st.sampled_from(["max", "min", "abs", "sum"]), children, children).map(
        lambda t: f"{t[0]}({t[1]})" if t[0] == "abs" else f"{t[0]}({t[1]}, {t[2]})")
    chain = st.tuples(children, children, children).map(lambda t: f"({t[0]} < {t[1]} <= {t[2]})")
    return st.one_of(binary, unary, ifexp, call, chain)


expressions = st.recursive(leaf, combine, max_leaves=12)
values = st.fixed_dictionaries({
    "a": st.decimals(min_value=-100, max_value=100, places=2, allow_nan=False),
    "b": st.integers(-5, 5).map(Decimal), "c": st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(3)]),
    "flag": st.booleans(), "label": st.sampled_from(["x", "y"])})


def outcome(fn):
    with decimal.localcontext(CONTEXT):
        try:
            return ("value", fn())
        except EvaluationError as exc:
            return ("error", str(exc))


@settings(max_examples=400, deadline=None)
@given(expressions, values)
def test_compiled_matches_simpleeval(text, names):
    try:
        expr = parse(text)
    except ExpressionSyntaxError:   # refused at load (e.g. a literal division by 0): nothing to compare
        return
    compiled = outcome(lambda: expr.evaluate(dict(names)))
    reference = outcome(lambda: expr.evaluate_reference(new_evaluator(), dict(names)))
    assert compiled == reference, text
